"""The delivery outbox: messages owed to the outside world, and the lease a worker holds while it sends one.

WHY an outbox: an order must never wait on, or be lost to, a mail server or a partner's web server that
is down (SPEC §6). So the command that causes a message (a release, say) writes a `deliveries` row in
its own transaction, beside its event, and commits; a separate worker (db.deliver.worker) sends it,
retries it on failure (core.delivery), and records the outcome. Delivery is at least once: a worker
killed after sending but before recording sends again after its lease lapses, so receivers de-duplicate
(a mail's Message-ID, a webhook's event id are stable per delivery).

Interface for other kinds (a webhook, an EDI file): call `enqueue(conn, kind=…, target=…, payload=…)`
inside the causing command's write transaction, and register a sender for the kind (db.deliver.senders).
`payload` is any JSON object; the sender for the kind is the only reader of it.

Claiming is the queue's statement (db.claims): one conditional UPDATE … RETURNING inside BEGIN
IMMEDIATE picks the next due row and leases it, so two workers never hold the same row. The claim
moves `next_attempt_at` past the lease: a row being sent is simply not due, and a lapsed lease makes
it due again with no reaper. Every outcome is fenced by the lease token.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.delivery import LEASE, DeliveryState, after_failure, short_error
from db.dbapi import Connection, Row
from db.convert import dt, ts


@dataclass(frozen=True)
class Delivery:
    """One row of the outbox, as a worker or a listing sees it."""

    id: int
    kind: str
    target: str
    payload: dict[str, Any]
    entity: str | None
    entity_id: int | None
    ref: str | None
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    lease_token: str | None

    @classmethod
    def from_row(cls, r: Row) -> "Delivery":
        return cls(id=r["id"], kind=r["kind"], target=r["target"], payload=json.loads(r["payload"] or "{}"),
                   entity=r["entity"], entity_id=r["entity_id"], ref=r["ref"], state=DeliveryState(r["state"]),
                   attempts=r["attempts"], created_at=dt(r["created_at"]), next_attempt_at=dt(r["next_attempt_at"]),
                   last_error=r["last_error"], last_attempt_at=dt(r["last_attempt_at"]), sent_at=dt(r["sent_at"]),
                   lease_token=r["lease_token"])


def enqueue(conn: Connection, *, kind: str, target: str, payload: dict[str, Any], now: datetime,
            entity: str | None = None, entity_id: int | None = None, ref: str | None = None,
            event_id: int | None = None, failed_because: str | None = None) -> int:
    """Write one delivery, due at once, inside the caller's write transaction; returns its id.

    `entity`/`entity_id`/`ref`: what it is about (the order), whose history records the outcome.
    `failed_because`: a delivery that cannot even be tried (no contact email): written `failed` with
    that reason, so it is visible in `orderq deliveries` and on the wallboard, and never retried."""
    if not conn.in_transaction:
        raise RuntimeError("a delivery is written inside the causing command's write transaction")
    state = DeliveryState.FAILED if failed_because else DeliveryState.PENDING
    cur = conn.execute(
        """INSERT INTO deliveries (kind, target, payload, entity, entity_id, ref, event_id, state, created_at,
                                   next_attempt_at, last_error)
           VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        (kind, target, json.dumps(payload, sort_keys=True, separators=(",", ":")), entity, entity_id, ref,
         event_id, state.value, ts(now), None if failed_because else ts(now),
         short_error(failed_because) if failed_because else None),
    )
    return int(cur.lastrowid)


def claim_next(conn: Connection, *, worker: str, now: datetime, lease: timedelta = LEASE,
               kinds: Iterable[str] | None = None) -> Delivery | None:
    """Lease the next due delivery (oldest due first) to `worker`, counting the try; None when none is due.
    `kinds`: only these kinds (a worker that has no sender for a kind leaves it to one that has)."""
    token = secrets.token_hex(8)
    args: dict[str, Any] = {"now": ts(now), "worker": worker, "token": token, "exp": ts(now + lease)}
    only = ""
    if kinds is not None:
        names = {f"k{i}": k for i, k in enumerate(kinds)}
        args.update(names)
        only = f" AND kind IN ({', '.join(':' + n for n in names) or 'NULL'})"
    row = conn.execute(
        f"""UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = :now, leased_by = :worker,
                lease_token = :token, lease_expires_at = :exp, next_attempt_at = :exp
            WHERE id = (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= :now{only}
                        ORDER BY next_attempt_at, id LIMIT 1)
            RETURNING *""",
        args,
    ).fetchone()
    return Delivery.from_row(row) if row is not None else None


def mark_sent(conn: Connection, d: Delivery, *, now: datetime) -> bool:
    """Record a successful send; False when the lease was lost meanwhile (another worker has it now)."""
    cur = conn.execute(
        """UPDATE deliveries SET state = 'sent', sent_at = ?, next_attempt_at = NULL, last_error = NULL,
               leased_by = NULL, lease_token = NULL, lease_expires_at = NULL
           WHERE id = ? AND lease_token = ? AND state = 'pending'""",
        (ts(now), d.id, d.lease_token),
    )
    return cur.rowcount == 1


def mark_try_failed(conn: Connection, d: Delivery, *, now: datetime, error: str,
                    permanent: bool = False) -> DeliveryState | None:
    """Record a failed try: pending again after the back-off, or failed for good (core.delivery).
    Returns the new state, or None when the lease was lost meanwhile."""
    state, next_at = after_failure(attempts=d.attempts, created_at=d.created_at, now=now, permanent=permanent)
    cur = conn.execute(
        """UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?, leased_by = NULL,
               lease_token = NULL, lease_expires_at = NULL
           WHERE id = ? AND lease_token = ? AND state = 'pending'""",
        (state.value, ts(next_at), short_error(error), d.id, d.lease_token),
    )
    return state if cur.rowcount == 1 else None


def next_due(conn: Connection, kinds: Iterable[str] | None = None) -> datetime | None:
    """When the next pending delivery (of `kinds`) is due (a leased one: when its lease lapses); None if none."""
    sql, args = "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'", []
    if kinds is not None:
        args = list(kinds)
        sql += f" AND kind IN ({','.join('?' * len(args)) or 'NULL'})"
    return dt(conn.execute(sql, args).fetchone()[0])


def counts(conn: Connection) -> dict[str, int]:
    """{"pending": n, "failed": m}: the backlog and the failures, off the partial indexes."""
    pending = conn.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]
    failed = conn.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'failed'").fetchone()[0]
    return {"pending": int(pending), "failed": int(failed)}


def listing(conn: Connection, states: Iterable[DeliveryState] = (DeliveryState.PENDING, DeliveryState.FAILED),
            limit: int = 500) -> list[Delivery]:
    """Deliveries in `states`, oldest first (at most `limit`)."""
    wanted = [s.value for s in states]
    rows = conn.execute(
        f"SELECT * FROM deliveries WHERE state IN ({','.join('?' * len(wanted))}) ORDER BY id LIMIT ?",
        (*wanted, limit),
    ).fetchall()
    return [Delivery.from_row(r) for r in rows]


def for_entity(conn: Connection, entity: str, entity_id: int) -> list[Delivery]:
    rows = conn.execute("SELECT * FROM deliveries WHERE entity = ? AND entity_id = ? ORDER BY id",
                        (entity, entity_id)).fetchall()
    return [Delivery.from_row(r) for r in rows]
