"""Idempotency-Key for the partner API (IETF draft "The Idempotency-Key HTTP Header Field"), kept
apart from the orders it guards (db/service/partner_api.py) because its rules are its own:

- a key is first reserved as 'in_flight' in a short transaction of its own, so a request with the
  same key in any API process on the database gets 409 while the first is handled; the order's own
  transaction marks it 'done' with the response (`mark_done`). The same key and body then replay that
  response and write nothing; the same key with another body is refused (422). A refused order frees
  its key. A key is kept KEY_KEPT_S (24 h, as the draft suggests) after its order; then it is
  forgotten and may be used again (the external reference still catches a resend). A reservation
  older than IN_FLIGHT_EXPIRES_S belongs to a request that died (its process was killed): the next
  request takes the key over.
- In a threaded server the key is checked (in this process's in-flight set, `flight`, then with one
  WAL read) before the request waits for its turn at the write lock (the server's WriterSlot), so a
  twin gets its 409 at once however long the queue.
"""
from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from core.errors import Conflict, ValidationError
from db.dbapi import Connection
from db.store import Store

#: the longest Idempotency-Key (the draft sets none; a UUID is 36)
KEY_MAX = 255
#: how long an Idempotency-Key is kept after its order (the IETF draft suggests 24 h)
KEY_KEPT_S = 24 * 3600
#: a reservation older than this was left by a request that died: far past any request's time
#: (the write lock's 5 s busy timeout and an order's milliseconds)
IN_FLIGHT_EXPIRES_S = 60
#: at most one purge of expired keys per process this often (a DELETE inside the write lock)
PURGE_EVERY_S = 60

IN_FLIGHT = "a request with this Idempotency-Key is still being handled; retry when it is done"


class InFlight(Conflict):
    code = "in_flight"


class KeyReused(ValidationError):
    """The draft's 422: the key was used before with another body."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


_last_purge = 0.0
#: keys whose request this process is handling: the 409 for a twin arriving while the first still
#: waits for the write lock to reserve its key (the database row covers the other processes)
_in_flight: set[tuple[int, str]] = set()
_in_flight_lock = threading.Lock()


@contextmanager
def flight(partner_id: int, key: str | None) -> Iterator[None]:
    """This process handles `key` inside: a twin arriving meanwhile gets InFlight (409) at once."""
    if key is None:
        yield
        return
    slot = (partner_id, key)
    with _in_flight_lock:
        if slot in _in_flight:
            raise InFlight(IN_FLIGHT, field="idempotency-key")
        _in_flight.add(slot)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(slot)


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise ValidationError(f"Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters",
                              field="idempotency-key")
    return key


class IdempotencyKeys:
    """One partner's keys. `gate`: the partner's own write transaction (a disabled partner reserves nothing)."""

    def __init__(self, store: Store, partner_id: int, gate: Callable[[], AbstractContextManager[Connection]]) -> None:
        self.store = store
        self.partner_id = partner_id
        self.gate = gate

    def reserve(self, key: str, fingerprint: str, now: float) -> tuple[str | None, Answer | None]:
        """(this request's reservation token, None), or (None, the stored answer to replay); refuses a
        key in flight (409) or used with another body (422). The key is first looked up without the
        write lock (a WAL read): a twin of a request that another process is handling sees its
        reservation at once and gets 409, and a replay writes nothing and waits for no one. A new key
        is then reserved in a transaction of its own, committed at once, so every process sees it."""
        answer = self.looked_up(key, fingerprint, now)
        if answer is not None:
            return None, answer
        return self.take(key, fingerprint, now)

    def looked_up(self, key: str, fingerprint: str, now: float) -> Answer | None:
        """One SELECT outside any transaction: its own snapshot, so no BEGIN … COMMIT around it."""
        return self.stored(self.store.conn, key, fingerprint, now)

    def take(self, key: str, fingerprint: str, now: float) -> tuple[str | None, Answer | None]:
        """The write half of `reserve`."""
        global _last_purge
        with self.gate() as c:
            if now - _last_purge > PURGE_EVERY_S:
                _last_purge = now
                c.execute("DELETE FROM api_idempotency WHERE created_at < ? OR (state = 'in_flight' AND created_at < ?)",
                          (now - KEY_KEPT_S, now - IN_FLIGHT_EXPIRES_S))
            answer = self.stored(c, key, fingerprint, now)  # again: another process may have come between
            if answer is not None:
                return None, answer
            token = secrets.token_hex(8)
            c.execute("INSERT INTO api_idempotency (partner_id, idem_key, fingerprint, status, response, "
                      "created_at, state, token) VALUES (?,?,?,0,'',?,'in_flight',?) ON CONFLICT (partner_id, idem_key)"
                      " DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, response = '',"
                      " created_at = excluded.created_at, state = 'in_flight', token = excluded.token",
                      (self.partner_id, key, fingerprint, now, token))
        return token, None

    def stored(self, c: Connection, key: str, fingerprint: str, now: float) -> Answer | None:
        """The answer stored for this key (a replay), None for a key unknown or expired; raises for a
        key in flight or used with another body."""
        row = c.execute("SELECT state, fingerprint, status, response, created_at FROM api_idempotency "
                        "WHERE partner_id = ? AND idem_key = ?", (self.partner_id, key)).fetchone()
        if row is None or row["created_at"] < now - (IN_FLIGHT_EXPIRES_S if row["state"] == "in_flight" else KEY_KEPT_S):
            return None
        if row["fingerprint"] != fingerprint:
            raise KeyReused(f"this Idempotency-Key was used with a different request body in the last "
                            f"{KEY_KEPT_S // 3600} h (keys are kept {KEY_KEPT_S // 3600} h)", field="idempotency-key")
        if row["state"] == "in_flight":
            raise InFlight(IN_FLIGHT, field="idempotency-key")
        return Answer(row["status"], json.loads(row["response"]), replayed=True)

    def mark_done(self, c: Connection, key: str, token: str | None, body: dict[str, Any], now: float) -> None:
        """In the order's transaction: the key's answer, stored with the order it made."""
        done = c.execute("UPDATE api_idempotency SET state = 'done', status = 201, response = ?, created_at = ? "
                         "WHERE partner_id = ? AND idem_key = ? AND token = ?",
                         (json.dumps(body), now, self.partner_id, key, token)).rowcount
        if not done:  # our reservation expired and another request took the key over
            raise InFlight("this Idempotency-Key was taken over by another request; retry to see its answer",
                           field="idempotency-key")

    def free(self, key: str, token: str) -> None:
        """A refused order frees its key (nothing was made under it). Best effort: if even this fails,
        the reservation expires after IN_FLIGHT_EXPIRES_S. Not through the partner's gate: a partner
        disabled meanwhile is why the order was refused, and its key must still be freed."""
        try:
            with self.store.write() as c:
                c.execute("DELETE FROM api_idempotency WHERE partner_id = ? AND idem_key = ? AND token = ? "
                          "AND state = 'in_flight'", (self.partner_id, key, token))
        except Exception:  # noqa: BLE001 - the order's own refusal is what the caller must see
            pass
