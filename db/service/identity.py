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
