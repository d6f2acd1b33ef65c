"""Partners: the web shops, marketplaces and B2B systems that send orders by API key (SPEC §2
"Partners and electronic channels"), and the one gate their requests pass (`authenticate`).

Keys. A key is `oq_` + `secrets.token_urlsafe(32)` (256 random bits). It is shown once, when made or
rotated, and stored only as its SHA-256 in hex, with its first characters (`key_prefix`) kept in
clear so support can tell which key a shop is holding ("oq_Zx4k…") without being able to use it.

Why a plain SHA-256 and not bcrypt/scrypt/argon2: those slow each guess down because human
passwords are few enough to guess in a dictionary; a 256-bit random key has no dictionary, and
2^256 SHA-256 preimage trials are out of reach with any number of GPUs, so a salt or a work factor
buys nothing. A fast hash also lets the request's key be looked up by its hash (a unique index),
in microseconds per request instead of a slow KDF's ~100 ms, which the API's p99 budget could not
carry. The lookup compares hashes of secrets, so its timing tells an attacker nothing about a key.

The webhook secret (Shopify's shared secret) is stored as given: verifying an HMAC needs the secret
itself, not a hash of it. It is never printed (`list` says only whether one is set).

Every change and every refusal is an event (entity "partner"), in the transaction of the change.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from core.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from core.permissions import Action
from db.dbapi import Connection, Row
from db import events
from db.convert import iso, ts
from db.service.context import Context
from db.service.orders import customer_code
from db.service.users import NAME_RE
from db.store import Store

CHANNELS = ("online", "edi")
KEY_PREFIX = "oq_"
#: the characters of a key kept in clear: "oq_" and 8 of its random part (48 bits: tells keys apart,
#: leaves 208 secret)
SHOWN = len(KEY_PREFIX) + 8
#: a webhook secret file holds one line: Shopify's secrets are 64 hex characters; anything past a few
#: KiB is the wrong file
MAX_SECRET_FILE = 4096


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    channel: str
    customer_id: int | None
    customer: str | None  # the customer's code, when the partner orders for one customer only
    may_set_prices: bool
    key_prefix: str
    active: bool
    has_webhook_secret: bool

    @property
    def actor(self) -> str:
        """How the partner appears in the audit log (`events.actor`)."""
        return f"partner:{self.name}"


@dataclass(frozen=True)
class NewKey:
    partner: Partner
    key: str  # the only time it exists in clear


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def read_secret_file(path: str) -> str:
    """The webhook secret in a file: its first line, stripped. Read before anything is written, and at
    most MAX_SECRET_FILE bytes (a FIFO or /dev/zero is refused, not read without end)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SECRET_FILE + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise ValidationError(f"cannot read a webhook secret from {path}", field="webhook_secret_file") from None
    if len(data) > MAX_SECRET_FILE:
        raise ValidationError(f"{path} is not a webhook secret file (over {MAX_SECRET_FILE} bytes)",
                              field="webhook_secret_file")
    lines = text.strip().splitlines()
    secret = lines[0].strip() if lines else ""
    if len(secret) < 16:
        raise ValidationError(f"the webhook secret in {path} is {'empty' if not secret else 'under 16 characters'}",
                              field="webhook_secret_file")
    return secret


_SELECT = """SELECT p.*, c.code AS customer_code FROM partners p LEFT JOIN customers c ON c.id = p.customer_id"""


def _partner(row: Row) -> Partner:
    return Partner(id=row["id"], name=row["name"], channel=row["channel"], customer_id=row["customer_id"],
                   customer=row["customer_code"], may_set_prices=bool(row["may_set_prices"]),
                   key_prefix=row["key_prefix"], active=bool(row["active"]),
                   has_webhook_secret=row["webhook_secret"] is not None)


def get_partner(conn: Connection, name: str) -> Partner | None:
    row = conn.execute(f"{_SELECT} WHERE p.name = ?", (name,)).fetchone()
    return _partner(row) if row else None


def webhook_secret(conn: Connection, partner_id: int) -> str | None:
    """The partner's webhook secret, for verifying a signature; never shown to anyone."""
    row = conn.execute("SELECT webhook_secret FROM partners WHERE id = ?", (partner_id,)).fetchone()
    return row["webhook_secret"] if row else None


def log_refusal(store: Store, *, why: str, partner: Partner | None, shown: str | None) -> None:
    """The refusal's event, in its own transaction: the request is refused whether or not it lands."""
    data: dict[str, Any] = {"action": "api", "why": why}
    if shown:
        data["key_prefix"] = shown
    with store.write() as c:
        events.append(c, at=store.now(), actor=partner.actor if partner else "anonymous", entity="partner",
                      entity_id=partner.id if partner else None, ref=partner.name if partner else None,
                      action="refused", data=data)


def authenticate(store: Store, key: str | None) -> Partner:
    """The partner holding `key`, or a typed refusal that is also an event:
    Unauthenticated (HTTP 401) for a missing, malformed, unknown or rotated-away key;
    PermissionDenied (HTTP 403) for a disabled partner's key."""
    key = (key or "").strip()
    if not key:
        log_refusal(store, why="no key", partner=None, shown=None)
        raise Unauthenticated("an API key is needed: send 'Authorization: Bearer KEY'", field="authorization")
    row = store.conn.execute(f"{_SELECT} WHERE p.key_hash = ?", (key_hash(key),)).fetchone()
    # only a key of our own shape has a prefix worth keeping (and it is plain ASCII of a known length)
    shown = key[:SHOWN] if key.startswith(KEY_PREFIX) and key[:SHOWN].isascii() and key[:SHOWN].isprintable() else None
    if row is None:
        log_refusal(store, why="unknown key", partner=None, shown=shown)
        raise Unauthenticated("the API key is not valid (unknown, or rotated)", field="authorization")
    partner = _partner(row)
    if not partner.active:
        log_refusal(store, why="partner disabled", partner=partner, shown=shown)
        raise PermissionDenied(f"partner {partner.name!r} is disabled", field="authorization")
    return partner


class PartnerService:
    """Managing partners: an admin's, or the operator's at the shell (Action.PARTNERS)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(self, name: str, channel: str, *, customer: str | None = None, may_set_prices: bool = False,
            webhook_secret: str | None = None) -> NewKey:
        """A new partner and its first key, which the caller shows once."""
        self.ctx.require(Action.PARTNERS, name)
        if not NAME_RE.match(name or ""):
            raise ValidationError(f"bad partner name {name!r}: use lower-case letters, digits, _ . - (up to 32)",
                                  field="name")
        if channel not in CHANNELS:
            raise ValidationError(f"unknown partner channel {channel!r} (online, edi)", field="channel")
        self._check_secret(webhook_secret)
        key = new_key()
        now = self.ctx.now()
        with self.ctx.write() as c:
            if c.execute("SELECT 1 FROM partners WHERE name = ?", (name,)).fetchone():
                raise ValidationError(f"partner {name!r} exists already", field="name")
            cust_id = None
            if customer is not None:
                code = customer_code(c, customer)
                row = c.execute("SELECT id FROM customers WHERE code = ?", (code,)).fetchone()
                if row is None:
                    raise ValidationError(f"unknown customer {customer!r}", field="customer")
                cust_id, customer = row["id"], code
            cur = c.execute(
                """INSERT INTO partners (name, channel, customer_id, may_set_prices, key_hash, key_prefix,
                     webhook_secret, active, created_at) VALUES (?,?,?,?,?,?,?,1,?)""",
                (name, channel, cust_id, int(may_set_prices), key_hash(key), key[:SHOWN], webhook_secret, ts(now)))
            pid = int(cur.lastrowid or 0)
            events.append(c, at=now, actor=self.ctx.actor.name, entity="partner", entity_id=pid, ref=name,
                          action="partner_added",
                          data={"channel": channel, "customer": customer, "may_set_prices": may_set_prices,
                                "key_prefix": key[:SHOWN], "webhook_secret": webhook_secret is not None,
                                "state": "active"})
            partner = get_partner(c, name)
        assert partner is not None
        return NewKey(partner, key)

    def rotate(self, name: str) -> NewKey:
        """A new key for the partner; the old one is refused (401) from this commit on."""
        self.ctx.require(Action.PARTNERS, name)
        key = new_key()
        now = self.ctx.now()
        with self.ctx.write() as c:
            old = self._existing(c, name)
            c.execute("UPDATE partners SET key_hash = ?, key_prefix = ?, key_rotated_at = ?, version = version + 1 "
                      "WHERE id = ?", (key_hash(key), key[:SHOWN], ts(now), old.id))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="partner", entity_id=old.id, ref=name,
                          action="key_rotated", data={"was": old.key_prefix, "key_prefix": key[:SHOWN]})
            partner = get_partner(c, name)
        assert partner is not None
        return NewKey(partner, key)

    def disable(self, name: str) -> None:
        """The partner's next request gets 403 (the check is per request, so at once)."""
        self._set_active(name, False)

    def enable(self, name: str) -> None:
        self._set_active(name, True)

    def _set_active(self, name: str, active: bool) -> None:
        self.ctx.require(Action.PARTNERS, name)
        now = self.ctx.now()
        with self.ctx.write() as c:
            p = self._existing(c, name)
            if p.active == active:
                raise ValidationError(f"partner {name!r} is {'active' if active else 'disabled'} already", field="name")
            c.execute("UPDATE partners SET active = ?, version = version + 1 WHERE id = ?", (int(active), p.id))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="partner", entity_id=p.id, ref=name,
                          action="partner_enabled" if active else "partner_disabled",
                          data={"state": "active" if active else "disabled"})

    def set_webhook_secret(self, name: str, secret: str) -> None:
        """Set or replace the shared secret Shopify signs its webhooks with (`read_secret_file`)."""
        self.ctx.require(Action.PARTNERS, name)
        self._check_secret(secret)
        now = self.ctx.now()
        with self.ctx.write() as c:
            p = self._existing(c, name)
            c.execute("UPDATE partners SET webhook_secret = ?, version = version + 1 WHERE id = ?", (secret, p.id))
            events.append(c, at=now, actor=self.ctx.actor.name, entity="partner", entity_id=p.id, ref=name,
                          action="webhook_secret_set", data={"replaced": p.has_webhook_secret})

    def list(self) -> list[dict[str, Any]]:
        self.ctx.require(Action.PARTNERS)
        rows = self.ctx.store.conn.execute(f"{_SELECT} ORDER BY p.name").fetchall()
        return [{"name": r["name"], "channel": r["channel"], "customer": r["customer_code"],
                 "may_set_prices": bool(r["may_set_prices"]), "key_prefix": r["key_prefix"],
                 "active": bool(r["active"]), "webhook_secret": r["webhook_secret"] is not None,
                 "created_at": iso(r["created_at"]), "key_rotated_at": iso(r["key_rotated_at"])} for r in rows]

    @staticmethod
    def _check_secret(secret: str | None) -> None:
        if secret is not None and (len(secret) < 16 or not secret.isprintable()):
            raise ValidationError("a webhook secret is one line of at least 16 characters", field="webhook_secret")

    @staticmethod
    def _existing(c: Connection, name: str) -> Partner:
        p = get_partner(c, name)
        if p is None:
            raise NotFound(f"unknown partner {name!r} (`orderq partners list` shows them)", field="name")
        return p
