"""One SSH connection: who may log in, what they may open, and when the connection is closed.

- **Authentication** is by public key only, against the keys stored per user
  (`orderq users key add`). The login name must be the user the key belongs to; an unknown key
  or a disabled user is refused. The key decides who the session is.
- **Logging in is capped** (tui.ssh_limits.LoginGate): a connection over the per-address or
  total count of connections still logging in is closed at once.
- **A connection without a session is closed** once it has been without one for the login
  timeout: a login that never opens a session (`ssh -N`), and one whose sessions were refused
  (a command, SFTP) or have ended, so a refused client cannot keep its connection.
- Port, agent and X11 forwarding are refused.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import asyncssh

from core.models import User
from db.service.users import user_for_key
from tui.ssh_session import AppSession

if TYPE_CHECKING:
    from tui.ssh_server import SSHService

log = logging.getLogger("orderq.ssh")


class ServerConnection(asyncssh.SSHServer):
    """One per TCP connection: authentication and what the client may ask for."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.user: User | None = None
        self.remote = "?"
        self.address = "?"
        self.channels: set[AppSession] = set()  # session channels not yet over (maybe not started)
        self._refused: set[str] = set()
        self._logging_in = False  # counted by the service's LoginGate
        self._turned_away = False
        self._sessionless: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.remote = f"{peer[0]}:{peer[1]}"
        self.service.connections.add(conn)
        why = self.service.login_gate.admit(self.address)
        if why is None:
            self._logging_in = True
            return
        self._turned_away = True
        unlogged = self.service.login_gate.log_refusal(self.address)
        if unlogged is not None:
            more = f" ({unlogged} more refused since the last such line)" if unlogged else ""
            log.warning("refused a connection from %s: %s%s", self.address, why, more)
        # asyncssh sends its version line after this returns: abort on the next turn of the loop
        asyncio.get_running_loop().call_soon(conn.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_logging_in()
        if self._sessionless is not None:
            self._sessionless.cancel()
        if self.conn is not None:
            self.service.connections.discard(self.conn)

    def _stop_logging_in(self) -> None:
        if self._logging_in:
            self._logging_in = False
            self.service.login_gate.release(self.address)

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
        return not self._turned_away

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        store = self.service.store
        if store is None or self.service.stopping or self._turned_away:
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
        self._stop_logging_in()
        self._arm_sessionless_check()

    # ---- a connection without a session -------------------------------------------------
    def _arm_sessionless_check(self) -> None:
        """From now on the connection may have no live session: it gets as long as a login to
        start one. A pending check is never pushed back, so refusal after refusal, or a channel
        opened and never started, cannot hold the connection open."""
        if self._sessionless is None:
            self._sessionless = asyncio.get_running_loop().call_later(
                self.service.config.login_timeout, self._close_if_sessionless)

    def _close_if_sessionless(self) -> None:
        self._sessionless = None
        live = any(s.running or s.starting for s in self.channels)
        if not live and self.conn is not None and self.conn in self.service.connections:
            log.info("closing a login without a session user=%s remote=%s", self.user and self.user.name, self.remote)
            self.conn.close()

    def session_over(self, session: AppSession) -> None:
        """A session channel was refused or has ended (AppSession calls this once)."""
        self.channels.discard(session)
        if not any(s.running or s.starting for s in self.channels):
            self._arm_sessionless_check()

    # ---- what may be opened -------------------------------------------------------------
    def session_requested(self) -> AppSession:
        assert self.user is not None
        session = AppSession(self.service, self)
        self.channels.add(session)
        return session

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
