"""Users, roles and SSH public keys; resolving who a session is."""
from __future__ import annotations

import base64
import hashlib
import re

from core.enums import Role
from core.errors import NotFound, ValidationError
from core.models import User
from core.labels import ROLE_PERSON
from core.permissions import Action, allowed
from db.dbapi import Connection, Row
from db import claims, events
from db.convert import ts
from db.service.context import Context

NAME_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
KEY_TYPES = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}


def _user(row: Row) -> User:
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
    # the blob names its own type (RFC 4253 §6.6: a length-prefixed string first); a mismatch is a damaged key
    n = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4:4 + n] != parts[0].encode() or len(blob) <= 4 + n:
        raise ValidationError(f"the key's data is not a {parts[0]} key", field="key")
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return parts[0], parts[1], fp, " ".join(parts[2:])


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row) if row else None


def user_for_key(conn: Connection, key_type: str, key_data: str) -> User | None:
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

    def add(self, name: str, role: str, key_text: str | None = None) -> User:
        """A new user, with their first SSH key when given: the key is checked first, and user, key and
        their events commit together, so a bad key leaves no half-made user behind."""
        self.ctx.require(Action.USERS)
        if not NAME_RE.match(name):
            raise ValidationError(f"bad user name {name!r}: use lower-case letters, digits, _ . -", field="name")
        try:
            r = Role(role)
        except ValueError:
            raise ValidationError(f"unknown role {role!r} (rep, returns, supervisor, admin)", field="role") from None
        key = parse_public_key(key_text) if key_text is not None else None
        now = self.ctx.now()
        with self.ctx.write() as c:
            if get_user(c, name):
                raise ValidationError(f"user {name!r} exists already", field="name")
            cur = c.execute("INSERT INTO users (name, role, active, created_at) VALUES (?,?,1,?)", (name, r.value, ts(now)))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=cur.lastrowid, ref=name,
                          action="user_added", data={"role": r.value, "state": "active"})
            if key is not None:
                self._insert_key(c, int(cur.lastrowid or 0), name, key)
        return User(id=int(cur.lastrowid or 0), name=name, role=r, active=True)

    def add_key(self, name: str, key_text: str) -> str:
        self.ctx.require(Action.USERS)
        key = parse_public_key(key_text)
        with self.ctx.write() as c:
            user = self._existing(c, name)
            self._insert_key(c, user.id, name, key)
        return key[2]

    def _insert_key(self, c: Connection, user_id: int, name: str, key: tuple[str, str, str, str]) -> None:
        """Store a parsed key and its event, inside the caller's transaction."""
        key_type, key_data, fp, comment = key
        if c.execute("SELECT 1 FROM user_keys WHERE fingerprint = ?", (fp,)).fetchone():
            raise ValidationError(f"key {fp} is registered already", field="key")
        now = self.ctx.now()
        c.execute(
            "INSERT INTO user_keys (user_id, key_type, key_data, fingerprint, comment, added_at) VALUES (?,?,?,?,?,?)",
            (user_id, key_type, key_data, fp, comment, ts(now)),
        )
        events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=user_id, ref=name,
                      action="key_added", data={"fingerprint": fp, "type": key_type})

    def disable(self, name: str) -> dict[str, int]:
        """Disable a user and, in the same transaction, give their claims back to the queue (orders
        to queued, returns lose their holder) and close their session rows. Their next command is
        refused (`Context.write`) and their live TUI sessions see `user_disabled` on the change feed
        and end. Returns how many orders, returns and sessions were let go."""
        self.ctx.require(Action.USERS)
        now = self.ctx.now()
        actor = self.ctx.actor.name
        freed = {"orders": 0, "returns": 0, "sessions": 0}
        with self.ctx.write() as c:
            user = self._existing(c, name)
            if not user.active:
                raise ValidationError(f"user {name!r} is disabled already", field="name")
            c.execute("UPDATE users SET active = 0, version = version + 1 WHERE id = ?", (user.id,))
            for q in (claims.ORDERS, claims.RETURNS):
                for row in c.execute(f"SELECT * FROM {q.table} WHERE claimed_by = ? ORDER BY id", (name,)).fetchall():
                    claims.drop(c, q, row, actor=actor, now=now, action="force_release",
                                extra={"reason": f"user {name} disabled"})
                    freed[q.table] += 1
            for sid, in c.execute('DELETE FROM sessions WHERE "user" = ? RETURNING id', (name,)).fetchall():
                events.append(c, at=now, actor=actor, entity="session", entity_id=sid, ref=name,
                              action="session_ended", data={"why": "user disabled"})
                freed["sessions"] += 1
            events.append(c, at=now, actor=actor, entity="user", entity_id=user.id, ref=name,
                          action="user_disabled", data={"state": "disabled", **freed})
        return freed

    def enable(self, name: str) -> None:
        self.ctx.require(Action.USERS)
        now = self.ctx.now()
        with self.ctx.write() as c:
            user = self._existing(c, name)
            if user.active:
                raise ValidationError(f"user {name!r} is active already", field="name")
            c.execute("UPDATE users SET active = 1, version = version + 1 WHERE id = ?", (user.id,))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=user.id, ref=name,
                          action="user_enabled", data={"state": "active"})

    def remove_key(self, name: str, fingerprint: str) -> None:
        """Drop one of a user's keys by its fingerprint (as `users list` prints it). SSH sessions
        already open with it go on; the next login with it is refused."""
        self.ctx.require(Action.USERS)
        fp = fingerprint.strip()
        if fp and not fp.startswith("SHA256:"):
            fp = "SHA256:" + fp
        now = self.ctx.now()
        with self.ctx.write() as c:
            user = self._existing(c, name)
            cur = c.execute("DELETE FROM user_keys WHERE user_id = ? AND fingerprint = ?", (user.id, fp))
            if cur.rowcount != 1:
                raise NotFound(f"{name} has no key {fp} (`orderq users list` shows their keys)", field="fingerprint")
            events.append(c, at=now, actor=self.ctx.actor.name, entity="user", entity_id=user.id, ref=name,
                          action="key_removed", data={"fingerprint": fp})

    @staticmethod
    def _existing(c: Connection, name: str) -> User:
        user = get_user(c, name)
        if user is None:
            raise NotFound(f"unknown user {name!r}", field="name")
        return user

    def list(self) -> list[dict]:
        """Every user with their keys' fingerprints (what `users key remove` takes)."""
        conn = self.ctx.store.conn
        fps: dict[int, list[str]] = {}
        for r in conn.execute("SELECT user_id, fingerprint FROM user_keys ORDER BY id"):
            fps.setdefault(r["user_id"], []).append(r["fingerprint"])
        return [
            {"name": r["name"], "role": r["role"], "active": bool(r["active"]), "keys": len(fps.get(r["id"], [])),
             "fingerprints": fps.get(r["id"], [])}
            for r in conn.execute("SELECT * FROM users ORDER BY name")
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
