"""Who is at the keyboard (SPEC §2, Identity).

- Under OpenSSH (ForceCommand or an authorized_keys command), SSH_CONNECTION is set: the user is
  the OS login name, and --user is ignored so nobody can claim to be someone else.
- Under `orderq serve`, the server starts the session process itself, with the user whose key
  authenticated, outside any OpenSSH session.
- In a plain local terminal, --user is honoured (local use and tests), else the OS login name.
"""
from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

from core.enums import Role
from core.errors import PermissionDenied
from db.dbapi import Connection
from db.service.context import Actor


#: the environment switch that lets the hidden `--now` flag pin the clock: tests and demos only. The
#: CLI refuses `--now` without it or inside an SSH session; `orderq serve` strips it from the
#: environment of every session it spawns (SPEC §6 "Users").
TEST_CLOCK_ENV = "ORDERQ_TEST_CLOCK"


def os_login() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


def in_ssh_session(env: Mapping[str, str] = os.environ) -> bool:
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"))


def session_user(requested: str | None, env: Mapping[str, str] = os.environ) -> str:
    if in_ssh_session(env):
        return os_login()
    return requested or os_login()


def active_user(conn: Connection, name: str) -> Actor:
    """The only gate into a session: unknown and disabled users are refused the same clear way.
    It answers with the Actor, not the User model: a session is let in before pydantic loads."""
    row = conn.execute("SELECT name, role, active FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise PermissionDenied(f"unknown user {name!r}: ask an admin to run `orderq users add {name} --role …`")
    if not row["active"]:
        raise PermissionDenied(f"user {name!r} is disabled")
    return Actor(row["name"], Role(row["role"]))
