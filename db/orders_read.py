"""Reading the live queue: counts, windows and positions in queue order, and `order list` lines.
(Full order records, built as core.models, are db.order_records: the queue paints without them.)

The queue is never loaded whole: callers ask for a count and a window (offset, limit) in queue
order, which the indexes on (state, due_at, …) answer in milliseconds at 100,000 rows.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from core.money import from_cents_int
from db.convert import iso
from db.migrations import QUEUE_ORDER

ROW_COLUMNS = f"""o.id, o.number, o.state, o.priority, o.priority_level, o.priority_source, o.override_note,
    o.tier_rank, o.channel, o.type, o.received_at, o.due_at, o.total_cents, o.hold_reason, o.hold_started_at,
    o.claimed_by,
    o.lease_expires_at, o.straight_through, o.queue_reason, o.source_ref, o.version,
    c.code AS customer_code, c.name AS customer_name, c.tier AS customer_tier"""


def summary_json(r: sqlite3.Row) -> dict[str, Any]:
    """The `order list --json` line: `order show` without lines."""
    return {
        "id": r["id"],
        "number": r["number"],
        "state": r["state"],
        "priority": r["priority"],
        "priority_source": r["priority_source"],
        "due_at": iso(r["due_at"]),
        "received_at": iso(r["received_at"]),
        "total": str(from_cents_int(r["total_cents"])),
        "customer": r["customer_code"],
        "customer_name": r["customer_name"],
        "tier": r["customer_tier"],
        "channel": r["channel"],
        "type": r["type"],
        "hold_reason": r["hold_reason"],
        "claimed_by": r["claimed_by"],
        "straight_through": bool(r["straight_through"]),
        "queue_reason": r["queue_reason"],
        "source_ref": r["source_ref"],
        "version": r["version"],
    }


@dataclass
class QueueFilter:
    """What the queue screen and `order list` narrow by. Empty means everything."""

    states: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    claimed_by: str | None = None
    search: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.states:
            clauses.append(f"o.state IN ({','.join('?' * len(self.states))})")
            args += list(self.states)
        if self.priorities:
            clauses.append(f"o.priority IN ({','.join('?' * len(self.priorities))})")
            args += list(self.priorities)
        if self.channels:
            clauses.append(f"o.channel IN ({','.join('?' * len(self.channels))})")
            args += list(self.channels)
        if self.claimed_by:
            clauses.append("o.claimed_by = ?")
            args.append(self.claimed_by)
        if self.search:
            term = self.search.strip()
            like = f"%{term}%"
            clauses.append(
                "(o.number LIKE ? OR o.source_ref = ? OR c.code LIKE ? OR c.name LIKE ?"
                " OR o.id IN (SELECT order_id FROM order_lines WHERE sku = ?))"
            )
            args += [like, term, like, like, term.upper()]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _order_by() -> str:
    return ", ".join(f"o.{c.strip()}" for c in QUEUE_ORDER.split(","))


def window(conn: sqlite3.Connection, f: QueueFilter, offset: int, limit: int) -> list[sqlite3.Row]:
    if len(f.states) > 1:
        return _window_by_state(conn, f, offset, limit)
    where, args = f.where()
    return conn.execute(
        f"SELECT {ROW_COLUMNS} FROM orders o JOIN customers c ON c.id = o.customer_id{where}"
        f" ORDER BY {_order_by()} LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()


def _window_by_state(conn: sqlite3.Connection, f: QueueFilter, offset: int, limit: int) -> list[sqlite3.Row]:
    """Several states (the open-work view): one arm per state, each read in queue order straight
    off ix_orders_state_queue and cut at offset+limit, merged by queue order. With `state IN (…)`
    SQLite would sort every matching row instead (0.35 s at 100,000 open orders, for 64 rows)."""
    where, args = replace(f, states=()).where()
    need = offset + limit
    arms: list[str] = []
    arm_args: list[Any] = []
    for state in f.states:
        w = (where + " AND " if where else " WHERE ") + "o.state = ?"
        arms.append(f"SELECT * FROM (SELECT {ROW_COLUMNS} FROM orders o JOIN customers c ON c.id = o.customer_id{w}"
                    f" ORDER BY {_order_by()} LIMIT ?)")
        arm_args += [*args, state, need]
    sql = " UNION ALL ".join(arms) + f" ORDER BY {QUEUE_ORDER} LIMIT ? OFFSET ?"
    return conn.execute(sql, [*arm_args, limit, offset]).fetchall()


def iter_all(conn: sqlite3.Connection, f: QueueFilter, batch: int = 2000):  # noqa: ANN201
    """Every matching row in queue order, by keyset pages so memory stays flat."""
    offset = 0
    while True:
        rows = window(conn, f, offset, batch)
        if not rows:
            return
        yield from rows
        offset += len(rows)


def count(conn: sqlite3.Connection, f: QueueFilter) -> int:
    where, args = f.where()
    join = " JOIN customers c ON c.id = o.customer_id" if f.search else ""
    return int(conn.execute(f"SELECT COUNT(*) FROM orders o{join}{where}", args).fetchone()[0])


def position(conn: sqlite3.Connection, f: QueueFilter, order_id: int) -> int | None:
    """0-based rank of an order within a filtered queue, so a cursor can follow its item."""
    row = conn.execute(
        "SELECT due_at, priority_level, tier_rank, total_cents, id FROM orders WHERE id = ?", (order_id,)
    ).fetchone()
    if row is None:
        return None
    where, args = f.where()
    before = (
        "(o.due_at < ? OR (o.due_at = ? AND (o.priority_level < ? OR (o.priority_level = ? AND"
        " (o.tier_rank < ? OR (o.tier_rank = ? AND (o.total_cents > ? OR (o.total_cents = ? AND o.id < ?))))))))"
    )
    bargs = [row[0], row[0], row[1], row[1], row[2], row[2], row[3], row[3], row[4]]
    where = (where + " AND " if where else " WHERE ") + before
    n = conn.execute(
        f"SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id{where}", [*args, *bargs]
    ).fetchone()[0]
    return int(n)
