"""The SSH server's host key: generated on first start, stored with mode 0600, reused (SPEC §6)."""
from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from core.errors import OrderqError


class ServeError(OrderqError):
    code = "serve"


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
