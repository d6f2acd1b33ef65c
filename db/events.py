"""The append-only event log: the audit trail and the change feed in one table.

Conventions inside `data`, relied on by `orderq check`:
- "state": the entity's state after the event, on every event that changes it;
- "claim": "acquire" or "drop", with "token", on every event that starts or ends a claim;
  "transfer" (a take-over by the same holder) with the new "token" and the old one as "was";
- "stock": {sku: delta} on every event that changes stock.

Every event is written here, by `append` or `append_many`, so every event takes its place in the
hash chain (db/event_chain.py) in the same transaction as the command that caused it. It is also
where a write transaction knows it wrote events: a connection with an `events_written(last_id)` hook
hears of them (PostgreSQL's adapter sends one NOTIFY at COMMIT: db/pg/feed.py); SQLite's has none,
as its change detection watches the files.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from db import dbapi
from db.convert import dt, ts
from db.event_chain import advance, chain_hash, encode_fixed, event_hash, head
from db.migration_steps.event_log import ACTION_INDEXED

if TYPE_CHECKING:
    from core.models import Event


def _default(o: object) -> object:
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, datetime):
        return o.isoformat()
    raise TypeError(f"cannot store {type(o).__name__} in an event")


# one encoder, built once: json.dumps with any option builds a new JSONEncoder on every call, and
# this runs for every event, inside the command's write lock
_ENCODER = json.JSONEncoder(default=_default, separators=(",", ":"), sort_keys=True)


def dumps(data: dict[str, Any]) -> str:
    return _ENCODER.encode(data)


def append(
    conn: dbapi.Connection,
    *,
    at: datetime,
    actor: str,
    entity: str,
    entity_id: int | None,
    ref: str | None,
    action: str,
    data: dict[str, Any] | None = None,
) -> int:
    """Must be called inside the command's own write transaction."""
    return append_many(conn, [(ts(at), actor, entity, entity_id, ref, action, dumps(data or {}))])


_INSERT = "INSERT INTO events (id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)"


def append_many(conn: dbapi.Connection, rows: list[tuple]) -> int:
    """Write events, in order, each chained to the one before; returns the last id (0 if none).

    rows: (at epoch seconds, actor, entity, entity_id, ref, action, data as `dumps` gives it). The
    chain's head is read inside the caller's BEGIN IMMEDIATE transaction: writers are serialised
    there, so two processes never chain onto the same event. Per event: a sha256 and the insert;
    per call, one read of the last row, unless the command's transaction holds the head already
    (db.event_chain.hold, by db.service.context.Context.write).
    """
    if not rows:
        return 0
    if not conn.in_transaction:
        raise RuntimeError("events are written inside the command's write transaction (db.connection.write_tx)")
    eid, prev = head(conn)
    out = []
    for r in rows:
        h = event_hash(prev, eid, *r)
        out.append((eid, *r, prev, h))
        prev = h
        eid += 1
    try:
        conn.executemany(_INSERT, out)
    except BaseException:
        advance(conn, None)  # some rows may be in: the next append reads the head from the table
        raise
    advance(conn, (eid, prev))
    _tell_written(conn, eid - 1)
    return eid - 1


def _tell_written(conn: dbapi.Connection, last_id: int) -> None:
    written = getattr(conn, "events_written", None)  # a backend's hook: PostgreSQL NOTIFYs once, at COMMIT
    if written is not None:
        written(last_id)


@dataclass(frozen=True, slots=True)
class Pending:
    """An event built before the command takes the write lock: all of it but its id, its place in
    the hash chain and (for a claim of the next item) which item it is about, which only the
    transaction knows. A claim holds the lock for one UPDATE and this event's INSERT, and on two
    shared cores with 16 claimers every µs of Python in there is a µs the other 15 cannot write
    (bench/bench_claim.py); so the JSON and the fixed part of the hash input are made here."""

    at: float
    actor: str
    entity: str
    action: str
    data: str
    fixed: tuple[str, str]  # db.event_chain.encode_fixed


def pending(*, at: datetime, actor: str, entity: str, action: str, data: dict[str, Any]) -> Pending:
    """Build an event now, to `append_pending` inside the write transaction later."""
    at_s, text = ts(at), dumps(data)
    return Pending(at_s, actor, entity, action, text, encode_fixed(at_s, actor, entity, action, text))


def append_pending(conn: dbapi.Connection, p: Pending, entity_id: int | None, ref: str | None) -> int:
    """`append` for an event built by `pending`: the same row and the same chain, with only the
    hash's variable part and the INSERT left to do inside the lock. Returns the event's id."""
    if not conn.in_transaction:
        raise RuntimeError("events are written inside the command's write transaction (db.connection.write_tx)")
    eid, prev = head(conn)
    h = chain_hash(prev, eid, p.fixed, entity_id, ref)
    try:
        conn.execute(_INSERT, (eid, p.at, p.actor, p.entity, entity_id, ref, p.action, p.data, prev, h))
    except BaseException:
        advance(conn, None)
        raise
    advance(conn, (eid + 1, h))
    _tell_written(conn, eid)
    return eid


def row_to_event(row: dbapi.Row) -> Event:
    from core.models import Event  # here, not above: a session paints before pydantic loads (tui.startup)

    return Event(
        id=row["id"],
        at=dt(row["at"]),
        actor=row["actor"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        ref=row["ref"],
        action=row["action"],
        data=json.loads(row["data"]),
    )


def since(conn: dbapi.Connection, cursor: int, limit: int | None = None) -> list[Event]:
    sql = "SELECT * FROM events WHERE id > ? ORDER BY id"
    args: tuple = (cursor,)
    if limit:
        sql += " LIMIT ?"
        args = (cursor, limit)
    return [row_to_event(r) for r in conn.execute(sql, args)]


def iter_since(conn: dbapi.Connection, cursor: int = 0, batch: int = 5000) -> Iterator[Event]:
    while True:
        chunk = since(conn, cursor, batch)
        if not chunk:
            return
        yield from chunk
        cursor = chunk[-1].id


def for_entity(conn: dbapi.Connection, entity: str, entity_id: int) -> list[Event]:
    return [
        row_to_event(r)
        for r in conn.execute(
            "SELECT * FROM events WHERE entity=? AND entity_id=? ORDER BY id", (entity, entity_id)
        )
    ]


def by_action(alias: str = "") -> str:
    """The term a read of the log by action (any action but a claim) ANDs into its WHERE, so SQLite
    answers it from ix_events_action_at, which leaves claims out (m910: a claim writes one b-tree
    fewer inside the write lock). `alias`: the events table's alias in the query ("e"), if any.
    Harmless on PostgreSQL, whose index holds every event."""
    return f"{alias}.{ACTION_INDEXED}" if alias else ACTION_INDEXED


def last_id(conn: dbapi.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])
