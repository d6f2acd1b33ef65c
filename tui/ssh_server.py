"""`orderq serve`: the embedded SSH server that serves the app and nothing else (SPEC §2, §3, §6).

Modelled on charmbracelet/wish. The server is split by a connection's life:

- tui.ssh_connection: **authentication** by public key only (the key decides who the session
  is), the cap on connections still logging in, and closing a connection left without a session;
- tui.ssh_session: **one process per session, on a real PTY**, only the app (a bare screen name
  may be asked for; commands, SFTP and a session without a PTY are refused with one line), the
  window size, and how a session ends;
- tui.ssh_spawn: the session process's clean environment and its PTY (setsid + TIOCSCTTY, so a
  vanished client means SIGHUP at once);
- tui.ssh_limits: the caps (PTY size, keepalive, connections logging in), as the README states them;
- tui.ssh_host_key: the host key, generated on first start, stored with mode 0600, and reused.

This module holds the server's shared state and its life cycle:

- **Limits:** `--max-sessions`, a login timeout, SSH keepalives (a client silent for 3 s is
  dropped), and an idle timeout on keyboard input (client→server bytes only; output never
  counts). A session whose app shows the wallboard is exempt: the app records its active screen
  in its `sessions` row (`desk.sessions`, keyed by the session process's pid), which the server
  reads when it checks for idleness.
- **Logging:** one line when a session starts and one when it ends, with the user, remote
  address, TERM, window size and (at the end) duration and why it ended.
- **SIGTERM:** every session's app is asked to stop (it gives its claims back), then each client
  is told on its channel; after a few seconds anything left is killed, and the server exits.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from db.service import Desk
from db.store import Store, is_url
from tui.ssh_connection import ServerConnection
from tui.ssh_host_key import ServeError, default_host_key, load_or_create_host_key
from tui.ssh_limits import (KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL, MAX_PENDING_LOGINS,
                            MAX_PENDING_LOGINS_PER_ADDRESS, LoginGate)
from tui.ssh_session import AppSession
from tui.ssh_spawn import session_env

__all__ = ["ServeConfig", "ServeError", "SSHService", "default_host_key", "serve", "serve_forever", "session_env"]

log = logging.getLogger("orderq.ssh")

#: screens a session may sit on without a key press (a wall display)
IDLE_EXEMPT = frozenset({"wallboard"})


@dataclass
class ServeConfig:
    db: Path | str                    # a SQLite file, or a postgresql:// URL (kept as given)
    host: str = "127.0.0.1"
    port: int = 2222
    host_key: Path | None = None
    max_sessions: int = 50
    idle_timeout: float = 1800.0      # seconds without a key press; 0 disables
    login_timeout: float = 30.0       # seconds from TCP connect to authenticated, and without a session
    command: str | None = None        # session command template ({user} {screen} {db}); tests
    hangup_grace: float = 3.0         # after SIGHUP/SIGTERM to an app, before SIGKILL
    shutdown_grace: float = 4.0       # on server SIGTERM, how long sessions get to finish
    keepalive: float = KEEPALIVE_INTERVAL          # probe a client silent this long...
    keepalive_count: int = KEEPALIVE_COUNT_MAX     # ...and drop it after this many unanswered probes
    max_pending_logins: int = MAX_PENDING_LOGINS   # connections still logging in, in total...
    max_pending_logins_per_address: int = MAX_PENDING_LOGINS_PER_ADDRESS  # ...and per remote address

    def host_key_path(self) -> Path:
        if self.host_key:
            return Path(self.host_key)
        if is_url(self.db):
            raise ServeError("--host-key is required with a PostgreSQL database: there is no database folder "
                             "to keep the host key beside")
        return default_host_key(Path(self.db))


class SSHService:
    """The server's shared state: the auth store, the running sessions, the limits."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.db: Path | str = config.db if is_url(config.db) else Path(config.db).resolve()
        self.store: Store | None = None
        self.desk: Desk | None = None  # the server's own view: reads sessions rows, acts for nobody
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.sessions: set[AppSession] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.login_gate = LoginGate(config.max_pending_logins, config.max_pending_logins_per_address)
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
                login_timeout=self.config.login_timeout,
                keepalive_interval=self.config.keepalive,
                keepalive_count_max=self.config.keepalive_count,
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
        log.info("listening on %s:%d (max %d sessions, idle timeout %s, login timeout %gs, keepalive %gs x %d, "
                 "max %d logging in, %d per address)",
                 self.config.host, port, self.config.max_sessions,
                 f"{self.config.idle_timeout:g}s" if self.config.idle_timeout else "off",
                 self.config.login_timeout, self.config.keepalive, self.config.keepalive_count,
                 self.config.max_pending_logins, self.config.max_pending_logins_per_address)
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
