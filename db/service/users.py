"""Users, roles and SSH public keys; resolving who a session is."""
from __future__ import annotations

import base64
import hashlib
import re
import sqlite3

from core.enums import Role
from core.errors import NotFound, ValidationError
from core.models import User
from core.labels import ROLE_PERSON
from core.permissions import Action, allowed
from db import events
from db.convert import ts
from db.service.context import Context

NAME_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
KEY_TYPES = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}


def _user(row: sqlite3.Row) -> User:
    return User(id=row["id"], name=row["name"], role=Role(row["role"]), active=bool(row["active"]))


def parse_public_key(text: str) -> tuple[str, str, str, str]:
    """(type, base64 blob, SHA256 fingerprint as OpenSSH prints it, comment) from one key line."""
    parts = text.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValidationError("not an OpenSSH public key line (expected e.g. 'ssh-ed25519 AAAA… comment')", field="key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ValidationError("the key's base64 part is damaged", field="key") from None
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return parts[0], parts[1], fp, " ".join(parts[2:])


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row) if row else None


def user_for_key(conn: sqlite3.Connection, key_type: str, key_data: str) -> User | None:
    row = conn.execute(
        "SELECT u.* FROM user_keys k JOIN users u ON u.id = k.user_id WHERE k.key_type = ? AND k.key_data = ?",
        (key_type, key_data),
    ).fetchone()
    if row is None or not row["active"]:
        return None
    return _user(row)


class UserService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(self, name: str, role: str) -> User:
        self.ctx.require(Action.USERS)
        if not NAME_RE.match(name):
            raise ValidationError(f"bad user name {name!r}: use lower-case letters, digits, _ . -", field="name")
        try:
            r = Role(role)
        except ValueError:
            raise ValidationError(f"unknown role {role!r} (rep, returns, supervisor, admin)", field="role") from None
        now = self.ctx.now()
        with self.ctx.store.write() as c:
            if get_user(c, name):
                raise ValidationError(f"user {name!r} exists already", field="name")
            cur = c.execute("INSERT INTO users (name, role, active, created_at) VALUES (?,?,1,?)", (name, r.value, ts(now)))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=cur.lastrowid, ref=name,
                          action="user_added", data={"role": r.value, "state": "active"})
        return User(id=int(cur.lastrowid or 0), name=name, role=r, active=True)

    def add_key(self, name: str, key_text: str) -> str:
        self.ctx.require(Action.USERS)
        key_type, key_data, fp, comment = parse_public_key(key_text)
        now = self.ctx.now()
        with self.ctx.store.write() as c:
            user = get_user(c, name)
            if user is None:
                raise NotFound(f"unknown user {name!r}", field="name")
            if c.execute("SELECT 1 FROM user_keys WHERE fingerprint = ?", (fp,)).fetchone():
                raise ValidationError(f"key {fp} is registered already", field="key")
            c.execute(
                "INSERT INTO user_keys (user_id, key_type, key_data, fingerprint, comment, added_at) VALUES (?,?,?,?,?,?)",
                (user.id, key_type, key_data, fp, comment, ts(now)),
            )
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=user.id, ref=name,
                          action="key_added", data={"fingerprint": fp, "type": key_type})
        return fp

    def disable(self, name: str) -> None:
        self.ctx.require(Action.USERS)
        now = self.ctx.now()
        with self.ctx.store.write() as c:
            user = get_user(c, name)
            if user is None:
                raise NotFound(f"unknown user {name!r}", field="name")
            if not user.active:
                raise ValidationError(f"user {name!r} is disabled already", field="name")
            c.execute("UPDATE users SET active = 0, version = version + 1 WHERE id = ?", (user.id,))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=user.id, ref=name,
                          action="user_disabled", data={"state": "disabled"})

    def list(self) -> list[dict]:
        rows = self.ctx.store.conn.execute(
            "SELECT u.*, (SELECT COUNT(*) FROM user_keys k WHERE k.user_id = u.id) AS keys FROM users u ORDER BY name"
        ).fetchall()
        return [
            {"name": r["name"], "role": r["role"], "active": bool(r["active"]), "keys": r["keys"]} for r in rows
        ]

    def assignable(self) -> list[tuple[str, str]]:
        """Who a supervisor may hand an order to (the reassign dialog's F4 list): active users whose
        role works orders, each with what they hold now, e.g. ("bob", "rep · holds 2")."""
        self.ctx.require(Action.REASSIGN)
        roles = [r.value for r in Role if allowed(r, Action.ORDER_WORK)]
        now = ts(self.ctx.now())
        rows = self.ctx.store.conn.execute(
            f"""SELECT u.name, u.role, (SELECT COUNT(*) FROM orders o WHERE o.claimed_by = u.name
                                         AND o.lease_expires_at > ?) AS holds
                FROM users u WHERE u.active = 1 AND u.role IN ({",".join("?" * len(roles))}) ORDER BY u.name""",
            (now, *roles)).fetchall()
        return [(r["name"], f"{ROLE_PERSON[r['role']].split(' ', 1)[1]} · holds {r['holds']}") for r in rows]
