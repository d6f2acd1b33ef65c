"""Starting a session's process: a clean environment, and `orderq tui` on its own PTY.

The process runs in its own session (`setsid`) with the PTY slave as its controlling tty
(`TIOCSCTTY`), so closing the master — the client vanished — sends it SIGHUP at once and it gives
its claims back. Its environment holds no `SSH_*` variable: the server, not OpenSSH, is the
authority on who the session is (`db.service.identity.session_user` ignores `--user` inside an
OpenSSH session). `TERM` comes from the client's PTY request.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import termios
from collections.abc import Mapping
from pathlib import Path

from db.service.identity import TEST_CLOCK_ENV
from tui.ssh_limits import TermSize, winsize

#: what may cross from the client's environment (SendEnv), as OpenSSH's default AcceptEnv does
ACCEPT_ENV = ("LANG", "LANGUAGE", "NO_COLOR", "COLORTERM")
#: the server, not the app, decides these for the sessions it serves (`--idle-timeout`, with the
#: wallboard exemption); the app's own ORDERQ_IDLE_TIMEOUT is for OpenSSH/local use. The test
#: clock switch (`--now`) never reaches a served session.
SERVER_OWNS_ENV = frozenset({"ORDERQ_IDLE_TIMEOUT", TEST_CLOCK_ENV})
#: what the session process keeps from the server's own environment
KEEP_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH",
            "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")


def _take_controlling_tty() -> None:  # pragma: no cover - runs in the child between fork and exec
    """After setsid (start_new_session), make the PTY slave on fd 0 the controlling tty, so a
    closed master hangs the session up (SIGHUP) instead of leaving it reading EOF forever."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def session_env(term: str | None, client_env: Mapping[str, str], db: Path | str, remote: str) -> dict[str, str]:
    """The session process's environment: a clean one. No SSH_* (identity comes from the key),
    no TMUX/COLUMNS/LINES from wherever the server runs; TERM from the client. The server's libpq
    settings (PG*: PGPASSFILE, PGSSLMODE, ...) are kept: a session reaches PostgreSQL as the server does."""
    env = {k: v for k, v in os.environ.items()
           if (k in KEEP_ENV or k.startswith(("LC_", "ORDERQ_", "PG"))) and k not in SERVER_OWNS_ENV}
    for k, v in client_env.items():
        if k in ACCEPT_ENV or k.startswith("LC_"):
            env[k] = v
    env["TERM"] = term or "xterm-256color"
    env["ORDERQ_DB"] = str(db)
    env["ORDERQ_REMOTE"] = remote  # informational (the sessions row's host); never identity
    return env


async def spawn_on_pty(argv: list[str], env: dict[str, str], size: TermSize) -> tuple[asyncio.subprocess.Process, int]:
    """(process, PTY master fd, non-blocking). The size is capped (tui.ssh_limits) on its way in."""
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, winsize(size))
        os.set_blocking(master, False)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=slave, stdout=slave, stderr=slave, env=env,
            start_new_session=True, preexec_fn=_take_controlling_tty, close_fds=True,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return proc, master
