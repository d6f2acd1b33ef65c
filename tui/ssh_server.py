"""`orderq serve`: the embedded SSH server that serves the app and nothing else (SPEC §2, §3, §6).

Modelled on charmbracelet/wish. What it does, in order of a connection's life:

- **Authentication** is by public key only, against the keys stored per user
  (`orderq users key add`). The login name must be the user the key belongs to; an unknown key
  or a disabled user is refused. The key decides who the session is.
- **One process per session, on a real PTY.** `orderq tui --user NAME` runs in its own session
  (`setsid`) with the PTY slave as its controlling tty (`TIOCSCTTY`), so closing the master — the
  client vanished — sends it SIGHUP at once and it gives its claims back. Its environment holds no
  `SSH_*` variable: the server, not OpenSSH, is the authority on who the session is
  (`db.service.identity.session_user` ignores `--user` inside an OpenSSH session). `TERM` comes
  from the client's PTY request; window size changes go to the PTY with `TIOCSWINSZ` (the kernel
  then sends SIGWINCH to the app).
- **Only the app is served.** Exec requests (`ssh host cmd`) get a one-line refusal — except a
  bare screen name (`queue`, `returns`, `wallboard`), which opens the app on that screen.
  Subsystems (SFTP), port, agent and X11 forwarding are refused. A session without a PTY gets a
  one-line explanation and closes.
- **Limits:** `--max-sessions`, a login timeout, and an idle timeout on keyboard input
  (client→server bytes only; output never counts). A session whose app shows the wallboard is
  exempt: the app records its active screen in its `sessions` row (`desk.sessions`, keyed by the
  session process's pid), which the server reads when it checks for idleness.
- **A host key** is generated on first start, stored with mode 0600, and reused.
- **Logging:** one line when a session starts and one when it ends, with the user, remote
  address, TERM, window size and (at the end) duration and why it ended.
- **SIGTERM:** every session's app is asked to stop (it gives its claims back), then each client
  is told on its channel; after a few seconds anything left is killed, and the server exits.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import pty
import shlex
import signal
import struct
import sys
import termios
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from core.errors import OrderqError, PermissionDenied
from core.models import User
from db.service import Desk
from db.service.identity import TEST_CLOCK_ENV, active_user
from db.service.users import user_for_key
from db.store import Store

log = logging.getLogger("orderq.ssh")

SCREENS = ("queue", "returns", "wallboard")
#: screens a session may sit on without a key press (a wall display)
IDLE_EXEMPT = frozenset({"wallboard"})
#: what may cross from the client's environment (SendEnv), as OpenSSH's default AcceptEnv does
ACCEPT_ENV = ("LANG", "LANGUAGE", "NO_COLOR", "COLORTERM")
#: the server, not the app, decides these for the sessions it serves (`--idle-timeout`, with the
#: wallboard exemption); the app's own ORDERQ_IDLE_TIMEOUT is for OpenSSH/local use. The test
#: clock switch (`--now`) never reaches a served session.
SERVER_OWNS_ENV = frozenset({"ORDERQ_IDLE_TIMEOUT", TEST_CLOCK_ENV})
#: what the session process keeps from the server's own environment
KEEP_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH",
            "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")


class ServeError(OrderqError):
    code = "serve"


@dataclass
class ServeConfig:
    db: Path
    host: str = "127.0.0.1"
    port: int = 2222
    host_key: Path | None = None
    max_sessions: int = 50
    idle_timeout: float = 1800.0      # seconds without a key press; 0 disables
    login_timeout: float = 30.0       # seconds from TCP connect to authenticated
    command: str | None = None        # session command template ({user} {screen} {db}); tests
    hangup_grace: float = 3.0         # after SIGHUP/SIGTERM to an app, before SIGKILL
    shutdown_grace: float = 4.0       # on server SIGTERM, how long sessions get to finish
    keepalive: float = 15.0           # SSH keepalive: notices a dropped network in ~4 intervals

    def host_key_path(self) -> Path:
        return Path(self.host_key) if self.host_key else default_host_key(self.db)


def default_host_key(db: Path) -> Path:
    """Beside the database: the database's folder is the server's home."""
    return Path(db).resolve().parent / "host_key_ed25519"


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """(key, created). A new key is written with mode 0600 from the first byte; an existing key
    readable by others is refused, as OpenSSH refuses an unprotected private key."""
    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ServeError(f"host key {path} is readable by others (mode {mode:04o}); run `chmod 600 {path}`")
        try:
            return asyncssh.read_private_key(str(path)), False
        except (asyncssh.KeyImportError, OSError) as e:
            raise ServeError(f"host key {path} could not be read: {e}") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="orderq host key")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise ServeError(f"cannot create host key {path}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key())
    return key, True


def _winsize(cols: int, rows: int, pw: int = 0, ph: int = 0) -> bytes:
    return struct.pack("HHHH", max(rows, 0), max(cols, 0), max(pw, 0), max(ph, 0))


def _take_controlling_tty() -> None:  # pragma: no cover - runs in the child between fork and exec
    """After setsid (start_new_session), make the PTY slave on fd 0 the controlling tty, so a
    closed master hangs the session up (SIGHUP) instead of leaving it reading EOF forever."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def session_env(term: str | None, client_env: Mapping[str, str], db: Path, remote: str) -> dict[str, str]:
    """The session process's environment: a clean one. No SSH_* (identity comes from the key),
    no TMUX/COLUMNS/LINES from wherever the server runs; TERM from the client."""
    env = {k: v for k, v in os.environ.items()
           if (k in KEEP_ENV or k.startswith(("LC_", "ORDERQ_"))) and k not in SERVER_OWNS_ENV}
    for k, v in client_env.items():
        if k in ACCEPT_ENV or k.startswith("LC_"):
            env[k] = v
    env["TERM"] = term or "xterm-256color"
    env["ORDERQ_DB"] = str(db)
    env["ORDERQ_REMOTE"] = remote  # informational (the sessions row's host); never identity
    return env


def _fmt_duration(s: float) -> str:
    return f"{s:.1f}s"


class SSHService:
    """The server's shared state: the auth store, the running sessions, the limits."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.db = Path(config.db).resolve()
        self.store: Store | None = None
        self.desk: Desk | None = None  # the server's own view: reads sessions rows, acts for nobody
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.sessions: set[AppSession] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.stopping = False
        self.host_key_fingerprint = ""
        self._idle_task: asyncio.Task | None = None

    # ---- life cycle -------------------------------------------------------------------
    async def start(self) -> int:
        self.store = Store.open(self.db)
        self.desk = Desk.operator(self.store, "orderq-serve")
        key_path = self.config.host_key_path()
        key, created = load_or_create_host_key(key_path)
        self.host_key_fingerprint = key.get_fingerprint()
        log.info("host key %s %s (%s)", key_path, self.host_key_fingerprint, "generated" if created else "reused")
        try:
            self.acceptor = await asyncssh.create_server(
                lambda: ServerConnection(self),
                self.config.host,
                self.config.port,
                server_host_keys=[key],
                login_timeout=self.config.login_timeout or 0,
                keepalive_interval=self.config.keepalive,
                keepalive_count_max=3,
                line_editor=False,
                encoding=None,
                allow_pty=True,
                agent_forwarding=False,
                x11_forwarding=False,
                gss_host=None,
                server_version="orderq",
            )
        except OSError as e:
            raise ServeError(f"cannot listen on {self.config.host}:{self.config.port}: {e.strerror or e}") from None
        port = self.acceptor.get_port()
        log.info("listening on %s:%d (max %d sessions, idle timeout %s, login timeout %s)",
                 self.config.host, port, self.config.max_sessions,
                 f"{self.config.idle_timeout:g}s" if self.config.idle_timeout else "off",
                 f"{self.config.login_timeout:g}s" if self.config.login_timeout else "off")
        if self.config.idle_timeout > 0:
            self._idle_task = asyncio.get_running_loop().create_task(self._idle_loop())
        return port

    async def shutdown(self) -> None:
        """SIGTERM: stop accepting, ask every app to stop, tell every client, wait, exit."""
        self.stopping = True
        if self.acceptor is not None:
            self.acceptor.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
        live = [s for s in self.sessions if s.running or s.starting]  # starting ones stop once spawned
        log.info("shutting down: %d sessions", len(live))
        for s in live:
            s.stop("shutdown", "the server is shutting down; please reconnect later",
                   grace=self.config.shutdown_grace)
        if live:
            waits = [asyncio.ensure_future(s.done.wait()) for s in live]
            await asyncio.wait(waits, timeout=self.config.shutdown_grace + 1.5)
            for w in waits:
                w.cancel()
        # let each told client read its message and hang up by itself before the rest are cut
        told = {s.owner.conn for s in live}
        deadline = time.monotonic() + 2.0
        while told & self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.close()
        if self.acceptor is not None:
            try:
                await asyncio.wait_for(self.acceptor.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - exiting anyway
                pass
        if self.store is not None:
            self.store.close()
        log.info("stopped")

    # ---- limits -------------------------------------------------------------------------
    def running_count(self) -> int:
        return sum(1 for s in self.sessions if s.running or s.starting)

    def idle_tick(self) -> float:
        return max(0.2, min(self.config.idle_timeout / 4, 5.0))

    async def _idle_loop(self) -> None:
        tick = self.idle_tick()
        while True:
            await asyncio.sleep(tick)
            try:
                self.check_idle(time.monotonic())
            except Exception:  # noqa: BLE001 - the check must keep running
                log.exception("idle check failed")

    def check_idle(self, now: float) -> None:
        """Stop sessions idle for longer than the timeout, except those showing an exempt
        screen (whose idle clock restarts, so leaving the wallboard gives a full period)."""
        limit = self.config.idle_timeout
        idle = [s for s in self.sessions if s.running and s.proc and now - s.last_input >= limit]
        if not idle or self.desk is None:
            return
        screens = {row["pid"]: row["screen"] for row in self.desk.sessions.online()}
        for s in idle:
            if s.proc is not None and screens.get(s.proc.pid) in IDLE_EXEMPT:
                s.last_input = now
                continue
            s.stop("idle", f"disconnected after {limit:g} s without a key press")


class ServerConnection(asyncssh.SSHServer):
    """One per TCP connection: authentication and what the client may ask for."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.user: User | None = None
        self.remote = "?"
        self._refused: set[str] = set()
        self.sessions_opened = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.remote = f"{peer[0]}:{peer[1]}"
        self.service.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.service.connections.discard(self.conn)

    # ---- authentication: public keys only ----------------------------------------------
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        store = self.service.store
        if store is None or self.service.stopping:
            return False
        try:
            key_type, key_data = key.export_public_key("openssh").decode().split()[:2]
            user = user_for_key(store.conn, key_type, key_data)
        except Exception:  # noqa: BLE001 - a bad key is a refused key, never a crash
            log.exception("key lookup failed")
            user = None
        fp = key.get_fingerprint()
        if user is None or user.name != username:
            if fp not in self._refused:
                self._refused.add(fp)
                why = "unknown key or disabled user" if user is None else f"key belongs to {user.name}"
                log.info("auth refused login=%s remote=%s key=%s (%s)", username, self.remote, fp, why)
            return False
        self.user = user
        return True

    def auth_completed(self) -> None:
        # a login that never opens a session (`ssh -N`) gets as long as a login, then is closed
        if self.service.config.login_timeout:
            asyncio.get_running_loop().call_later(self.service.config.login_timeout, self._no_session_check)

    def _no_session_check(self) -> None:
        if not self.sessions_opened and self.conn is not None and self.conn in self.service.connections:
            log.info("closing a login without a session user=%s remote=%s", self.user and self.user.name, self.remote)
            self.conn.close()

    # ---- what may be opened -------------------------------------------------------------
    def session_requested(self) -> "AppSession":
        assert self.user is not None
        self.sessions_opened += 1
        return AppSession(self.service, self)

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        log.info("refused port forwarding user=%s remote=%s", self.user and self.user.name, self.remote)
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.info("refused remote forwarding user=%s remote=%s", self.user and self.user.name, self.remote)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        return False


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
            self.cols, self.rows, self.pxw, self.pxh = term_size
        return True

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
        self.done.set()

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
        svc = self.service
        assert svc.store is not None
        master, slave = pty.openpty()
        self.master = master
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(self.cols, self.rows, self.pxw, self.pxh))
            os.set_blocking(master, False)
            client_env = self.chan.get_environment() if self.chan is not None else {}
            env = session_env(self.term, client_env, svc.db, self.owner.remote)
            self.proc = await asyncio.create_subprocess_exec(
                *self._argv(), stdin=slave, stdout=slave, stderr=slave, env=env,
                start_new_session=True, preexec_fn=_take_controlling_tty, close_fds=True,
            )
        finally:
            os.close(slave)
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
        self.cols, self.rows, self.pxw, self.pxh = width, height, pixwidth, pixheight
        if self.master is not None:
            try:  # the kernel sends SIGWINCH to the app's foreground process group
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, _winsize(width, height, pixwidth, pixheight))
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
            self.done.set()

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
        self.done.set()


async def serve_forever(config: ServeConfig, ready: asyncio.Event | None = None) -> int:
    service = SSHService(config)
    await service.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await service.shutdown()
    return 0


def serve(config: ServeConfig) -> int:
    """Blocking entry for `orderq serve`."""
    return asyncio.run(serve_forever(config))
