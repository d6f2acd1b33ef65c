"""One SSH session channel: the app in its own process on a PTY (tui.ssh_spawn), bytes pumped
both ways, and how it ends.

- **Only the app is served.** Exec requests (`ssh host cmd`) get a one-line refusal — except a
  bare screen name (`queue`, `returns`, `wallboard`), which opens the app on that screen.
  Subsystems (SFTP) are refused. A session without a PTY gets a one-line explanation and closes.
- **Window size** comes from the PTY request and every window change, capped at
  tui.ssh_limits.MAX_COLS × MAX_ROWS, and goes to the PTY with `TIOCSWINSZ` (the kernel then
  sends SIGWINCH to the app).
- **Ending:** the client gone (quit, killed, or dropped by the keepalive) closes the PTY master,
  so the app gets SIGHUP and gives its claims back; a stop (idle, shutdown) sends SIGTERM and
  tells the client why. Whatever is still there after the grace period is killed.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shlex
import signal
import sys
import termios
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import asyncssh

from core.errors import PermissionDenied
from db.service.identity import active_user
from tui.ssh_limits import MAX_COLS, MAX_ROWS, cap_term_size, winsize
from tui.ssh_spawn import session_env, spawn_on_pty

if TYPE_CHECKING:
    from tui.ssh_connection import ServerConnection
    from tui.ssh_server import SSHService

log = logging.getLogger("orderq.ssh")

SCREENS = ("queue", "returns", "wallboard")


def _fmt_duration(s: float) -> str:
    return f"{s:.1f}s"


class AppSession(asyncssh.SSHServerSession):
    """One SSH session channel: the app in its own process on a PTY, bytes pumped both ways."""

    def __init__(self, service: SSHService, owner: ServerConnection) -> None:
        self.service = service
        self.owner = owner
        assert owner.user is not None
        self.user = owner.user
        self.chan: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.cols, self.rows, self.pxw, self.pxh = 80, 24, 0, 0
        self.has_pty = False
        self._capped_logged = False
        self.command: str | None = None
        self.screen: str | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self.started = time.monotonic()
        self.last_input = self.started
        self.starting = False
        self.running = False
        self.client_gone = False
        self.reason: str | None = None
        self.farewell: str | None = None
        self.forced = False
        self.done = asyncio.Event()
        self._inbuf = bytearray()
        self._writer_on = False
        self._reader_on = False
        self._paused = False
        self._shown = False
        self._task: asyncio.Task | None = None
        self._kill_handle: asyncio.TimerHandle | None = None

    # ---- channel requests -----------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping) -> bool:
        self.has_pty = True
        self.term = term_type
        if term_size[0] > 0 and term_size[1] > 0:  # `ssh -tt` from a pipe reports 0x0: keep 80x24
            self._set_size(*term_size)
        return True

    def _set_size(self, cols: int, rows: int, pxw: int, pxh: int) -> None:
        """The client's window, capped (tui.ssh_limits); the first capping is logged."""
        self.cols, self.rows, self.pxw, self.pxh = cap_term_size(cols, rows, pxw, pxh)
        if (cols, rows) != (self.cols, self.rows) and not self._capped_logged:
            self._capped_logged = True
            log.info("window %dx%d capped to %dx%d user=%s remote=%s", cols, rows, MAX_COLS, MAX_ROWS,
                     self.user.name, self.owner.remote)

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # Accepted only so the client reads a one-line reason; _run refuses anything but a screen name.
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("refused subsystem %s user=%s remote=%s", subsystem, self.user.name, self.owner.remote)
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        return None

    def eof_received(self) -> bool:
        # The client closed its input: the app keeps running until the channel or TCP goes.
        return True

    def session_started(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    # ---- the session --------------------------------------------------------------------------
    def _describe(self) -> str:
        return (f"user={self.user.name} remote={self.owner.remote} term={self.term or '-'} "
                f"size={self.cols}x{self.rows}")

    def _refuse(self, message: str, why: str) -> None:
        log.info("session refused %s reason=%s", self._describe(), why)
        if self.chan is not None and not self.client_gone:
            try:
                self.chan.write_stderr(f"orderq: {message}\r\n".encode())
                self.chan.exit(1)
            except (asyncssh.Error, OSError):
                pass
        self._over()

    def _argv(self) -> list[str]:
        screen = self.screen or "queue"
        if self.service.config.command:
            subst = {"user": self.user.name, "screen": screen, "db": str(self.service.db)}
            return [part.format(**subst) for part in shlex.split(self.service.config.command)]
        argv = [sys.executable, "-m", "cli.main", "--db", str(self.service.db), "tui", "--user", self.user.name]
        if self.screen:
            argv += ["--screen", self.screen]
        return argv

    async def _run(self) -> None:
        svc = self.service
        if self.command is not None:
            cmd = self.command.strip()
            if cmd not in SCREENS:
                self._refuse("only the orderq app is served here; commands are refused "
                             f"(connect without one, or name a screen: {', '.join(SCREENS)})",
                             f"exec {cmd[:60]!r}")
                return
            self.screen = cmd
        if not self.has_pty:
            self._refuse("the app needs a terminal: connect with a PTY (plain `ssh`, or `ssh -t`), not -T or a pipe",
                         "no pty")
            return
        if svc.stopping:
            self._refuse("the server is shutting down; please reconnect later", "shutting down")
            return
        if svc.running_count() >= svc.config.max_sessions:
            self._refuse(f"the server is full ({svc.config.max_sessions} sessions); please try again later",
                         "max sessions")
            return
        assert svc.store is not None
        try:
            active_user(svc.store.conn, self.user.name)
        except PermissionDenied as e:
            self._refuse(e.message, "user refused")
            return
        self.starting = True
        svc.sessions.add(self)  # counts against --max-sessions from now on
        try:
            await self._spawn()
        except Exception as e:  # noqa: BLE001 - a failed start is a refused session, never a dead server
            log.exception("could not start a session for %s", self.user.name)
            self.starting = False
            svc.sessions.discard(self)
            self._close_master()
            self._refuse("the app could not be started; please tell your administrator", f"spawn failed: {e}")
            return
        self.starting = False
        self.running = True
        self.last_input = time.monotonic()  # the idle clock starts with the app, not with the login
        log.info("session start %s screen=%s pid=%d sessions=%d", self._describe(), self.screen or "queue",
                 self.proc.pid if self.proc else 0, svc.running_count())
        if self.client_gone:  # vanished while we were starting
            self.hangup()
        elif svc.stopping:
            self.stop("shutdown", "the server is shutting down; please reconnect later")
        rc = await self.proc.wait() if self.proc else 1
        self._finish(rc)

    async def _spawn(self) -> None:
        client_env = self.chan.get_environment() if self.chan is not None else {}
        env = session_env(self.term, client_env, self.service.db, self.owner.remote)
        self.proc, self.master = await spawn_on_pty(self._argv(), env, (self.cols, self.rows, self.pxw, self.pxh))
        self._reader(True)
        self._flush_input()

    # ---- pumping bytes --------------------------------------------------------------------------
    def _reader(self, on: bool) -> None:
        if self.master is None or on == self._reader_on:
            return
        loop = asyncio.get_running_loop()
        if on:
            loop.add_reader(self.master, self._on_output)
        else:
            loop.remove_reader(self.master)
        self._reader_on = on

    def _on_output(self) -> None:
        if self.master is None:
            return
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave fd is closed (the app exited)
            data = b""
        if not data:
            self._reader(False)
            return
        if not self._shown:  # the idle clock starts when the app first shows something
            self._shown = True
            self.last_input = time.monotonic()
        self._send(data)

    def _send(self, data: bytes) -> None:
        if self.chan is None or self.client_gone:
            return
        try:
            self.chan.write(data)
        except (asyncssh.Error, OSError, BrokenPipeError):
            pass

    def pause_writing(self) -> None:
        self._paused = True
        self._reader(False)

    def resume_writing(self) -> None:
        self._paused = False
        if self.running:
            self._reader(True)

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_input = time.monotonic()
        if self.done.is_set() or len(self._inbuf) > 1 << 20:  # over, or an app that stopped reading
            return
        self._inbuf += data
        self._flush_input()

    def _flush_input(self) -> None:
        if self.master is None:
            return
        while self._inbuf:
            try:
                n = os.write(self.master, self._inbuf)
            except BlockingIOError:
                break
            except OSError:
                self._inbuf.clear()
                break
            del self._inbuf[:n]
        loop = asyncio.get_running_loop()
        want = bool(self._inbuf)
        if want != self._writer_on:
            if want:
                loop.add_writer(self.master, self._flush_input)
            else:
                loop.remove_writer(self.master)
            self._writer_on = want

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width <= 0 or height <= 0:
            return
        self._set_size(width, height, pixwidth, pixheight)
        if self.master is not None:
            try:  # the kernel sends SIGWINCH to the app's foreground process group
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, winsize((self.cols, self.rows, self.pxw, self.pxh)))
            except OSError:
                pass

    # ---- ending -------------------------------------------------------------------------------
    def connection_lost(self, exc: Exception | None) -> None:
        """The channel or the whole connection went away (quit, killed client, network drop)."""
        self.client_gone = True
        if self.running:
            self.reason = self.reason or "client gone"
            self.hangup()
        elif not self.starting:
            self._over()

    def _close_master(self) -> None:
        if self.master is None:
            return
        self._reader(False)
        if self._writer_on:
            asyncio.get_running_loop().remove_writer(self.master)
            self._writer_on = False
        try:
            os.close(self.master)
        except OSError:
            pass
        self.master = None

    def hangup(self) -> None:
        """Close the PTY master: the kernel sends SIGHUP to the app, which gives its claims back
        and exits. Whatever is still there after the grace period is killed."""
        self._close_master()
        self._kill_later(self.service.config.hangup_grace)

    def stop(self, reason: str, farewell: str, *, grace: float | None = None) -> None:
        """Ask the app to finish (SIGTERM: it gives its claims back and restores the terminal),
        then tell the client why once it has."""
        if not self.running or self.farewell is not None:
            return
        self.reason, self.farewell = reason, farewell
        self._signal(signal.SIGTERM)
        self._kill_later(self.service.config.hangup_grace if grace is None else grace)

    def _signal(self, sig: int) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _kill_later(self, delay: float) -> None:
        if self._kill_handle is None:
            self._kill_handle = asyncio.get_running_loop().call_later(delay, self._kill)

    def _kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.forced = True
            log.warning("session pid=%d did not exit in time; killing it (user=%s)", self.proc.pid, self.user.name)
            self._signal(signal.SIGKILL)

    def _drain_output(self) -> None:
        if self.master is None:
            return
        for _ in range(64):
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self._send(data)

    def _finish(self, rc: int) -> None:
        self.running = False
        if self._kill_handle is not None:
            self._kill_handle.cancel()
        self._drain_output()
        self._close_master()
        self.service.sessions.discard(self)
        if self.reason is None:
            self.reason = "quit" if rc == 0 else (f"crashed (signal {-rc})" if rc < 0 else f"exit {rc}")
        if self.forced:
            self.reason += ", killed"
        log.info("session end %s duration=%s reason=%s exit=%d", self._describe(),
                 _fmt_duration(time.monotonic() - self.started), self.reason, rc)
        if self.chan is not None and not self.client_gone:
            message = self.farewell
            if message is None and rc < 0:
                message = f"the session ended unexpectedly (signal {-rc}); your claims come back to the queue"
            try:
                if message:
                    self.chan.write(f"\r\norderq: {message}\r\n".encode())
                self.chan.exit(rc if 0 <= rc < 256 else 128 + min(-rc, 127))
            except (asyncssh.Error, OSError):
                pass
        self._over()

    def _over(self) -> None:
        """Refused or ended: once, tell the connection (it closes itself if left without a session)."""
        if not self.done.is_set():
            self.done.set()
            self.owner.session_over(self)
