"""Reading the live queue: counts, windows and positions in queue order, and `order list` lines.
(Full order records, built as core.models, are db.order_records: the queue paints without them.)

The queue is never loaded whole: callers ask for a count and a window (offset, limit) in queue
order, which the indexes on (state, due_at, …) answer in milliseconds at 100,000 rows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.money import from_cents_int
from db import dbapi
from db.claims import Narrow
from db.convert import iso
from db.migrations import QUEUE_ORDER

ROW_COLUMNS = f"""o.id, o.number, o.state, o.priority, o.priority_level, o.priority_source, o.override_note,
    o.tier_rank, o.channel, o.type, o.received_at, o.due_at, o.total_cents, o.hold_reason, o.hold_started_at,
    o.claimed_by,
    o.lease_expires_at, o.straight_through, o.queue_reason, o.source_ref, o.version,
    c.code AS customer_code, c.name AS customer_name, c.tier AS customer_tier"""


def summary_json(r: dbapi.Row) -> dict[str, Any]:
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

    def tables(self) -> str:
        """FROM: customers are joined only when a search needs their code or name, so counts and
        windows are answered from the orders indexes alone."""
        return "orders o" + (" JOIN customers c ON c.id = o.customer_id" if self.search else "")

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
                # LOWER(…) LIKE LOWER(?): case-insensitive on both backends (PostgreSQL's LIKE is not);
                # a %term% pattern uses no index either way
                "(LOWER(o.number) LIKE LOWER(?) OR o.source_ref = ? OR LOWER(c.code) LIKE LOWER(?)"
                " OR LOWER(c.name) LIKE LOWER(?)"
                " OR o.id IN (SELECT order_id FROM order_lines WHERE sku = ?))"
            )
            args += [like, term, like, like, term.upper()]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


    @property
    def excludes_queued(self) -> bool:
        """A view of states without `queued` (e.g. on hold only) has nothing a claim could take."""
        return bool(self.states) and "queued" not in self.states

    def claim_narrowing(self) -> Narrow | None:
        """What this filter asks of the next order to claim (`c`, release-and-next): its class,
        channel and search. Not its states (a claim always takes a queued order; see
        `excludes_queued`) nor `mine` (claiming makes it mine). None: nothing narrows it."""
        f = replace(self, states=(), claimed_by=None)
        where, args = f.where()
        if not where:
            return None
        head, *rest = where.removeprefix(" WHERE ").split("?")
        sql = head + "".join(f":narrow{i}{part}" for i, part in enumerate(rest))
        return Narrow(f.tables(), sql, {f"narrow{i}": a for i, a in enumerate(args)})


#: QUEUE_ORDER as (column, descending) pairs: the one definition the window reads below derive from
_ORDER = [(c.split()[0], c.strip().upper().endswith(" DESC")) for c in QUEUE_ORDER.split(",")]
#: the queue order's columns: the last row's values are where the next page starts
KEY = tuple(col for col, _ in _ORDER)
Key = tuple[Any, ...]


def _order_sql(forward: bool, prefix: str = "o.") -> str:
    """QUEUE_ORDER, or its exact reverse, as an ORDER BY list (`prefix` "" over a UNION's columns)."""
    return ", ".join(f"{prefix}{col}{' DESC' if desc == forward else ''}" for col, desc in _ORDER)


def _and(where: str, cond: str) -> str:
    return (where + " AND " if where else " WHERE ") + cond


def key_of(row: dbapi.Row) -> Key:
    return tuple(row[k] for k in KEY)


def queue_key(values: Any) -> list[Any]:
    """A new order's place in the queue (key_of, as a list), from its column values: what its
    `created` event carries, so a live screen can place it without a read (issue 14)."""
    return [values[k] for k in KEY]


def _beyond(key: Key, forward: bool) -> tuple[str, list[Any]]:
    """Rows after (forward) or before `key` in queue order: `c1 > k1 OR (c1 = k1 AND (c2 > k2 OR …))`,
    each comparison turned round for a descending column. A leading bound on the first column lets
    the index seek straight to the key."""
    ops = [">" if forward != desc else "<" for _, desc in _ORDER]
    sql, args = f"o.{KEY[-1]} {ops[-1]} ?", [key[-1]]
    for i in range(len(KEY) - 2, -1, -1):
        sql = f"(o.{KEY[i]} {ops[i]} ? OR (o.{KEY[i]} = ? AND {sql}))"
        args = [key[i], key[i], *args]
    return f"o.{KEY[0]} {ops[0]}= ? AND {sql}", [key[0], *args]


def _ids(conn: dbapi.Connection, f: QueueFilter, offset: int, limit: int, *, forward: bool = True,
         beyond: Key | None = None) -> list[int]:
    """Ids of one window in queue order (backwards when not `forward`), read off the index alone.

    Only the window's own rows are then joined to their customers (`_rows`): an offset deep in
    100,000 open orders walks index entries, never rows. With several states (the open-work
    view) there is one arm per state, each in order straight off ix_orders_state_queue and cut
    at offset+limit, merged by queue order; `state IN (…)` would make SQLite sort every match.
    """
    states = f.states if len(f.states) > 1 else (None,)
    where, args = (replace(f, states=()) if len(f.states) > 1 else f).where()
    if beyond is not None:
        cond, cargs = _beyond(beyond, forward)
        where, args = _and(where, cond), [*args, *cargs]
    order = _order_sql(forward)
    if states == (None,):
        sql = f"SELECT o.id FROM {f.tables()}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        return [r[0] for r in conn.execute(sql, [*args, limit, offset])]
    arms, arm_args = [], []
    for i, state in enumerate(states):
        w = _and(where, "o.state = ?")
        arms.append(f"SELECT * FROM (SELECT {', '.join(f'o.{k}' for k in KEY)}"
                    f" FROM {f.tables()}{w} ORDER BY {order} LIMIT ?) AS arm{i}")  # PostgreSQL wants the alias
        arm_args += [*args, state, offset + limit]
    sql = " UNION ALL ".join(arms) + f" ORDER BY {_order_sql(forward, prefix='')} LIMIT ? OFFSET ?"
    return [r[-1] for r in conn.execute(sql, [*arm_args, limit, offset])]  # id: the last key column


def _rows(conn: dbapi.Connection, ids: list[int]) -> list[dbapi.Row]:
    if not ids:
        return []
    rows = conn.execute(f"SELECT {ROW_COLUMNS} FROM orders o JOIN customers c ON c.id = o.customer_id"
                        f" WHERE o.id IN ({','.join('?' * len(ids))})", ids).fetchall()
    at = {r[0]: r for r in rows}  # o.id leads ROW_COLUMNS (by index: any row factory will do)
    return [at[i] for i in ids if i in at]


def rows_by_id(conn: dbapi.Connection, ids: list[int]) -> list[dbapi.Row]:
    """Queue rows of these orders (in the order given, missing ones left out): a live screen
    re-reads just the rows that changed."""
    return _rows(conn, ids)


def window(conn: dbapi.Connection, f: QueueFilter, offset: int, limit: int,
           total: int | None = None) -> list[dbapi.Row]:
    """Rows offset … offset+limit of the queue. Given the `total`, a window in the second half is
    read from the end backwards: the last page costs what the first does."""
    if total is not None and offset > total // 2 and offset < total:
        back = max(0, total - offset - limit)
        ids = _ids(conn, f, back, min(limit, total - offset), forward=False)
        return _rows(conn, ids[::-1])
    return _rows(conn, _ids(conn, f, offset, limit))


def window_after(conn: dbapi.Connection, f: QueueFilter, key: Key, limit: int) -> list[dbapi.Row]:
    """The `limit` rows right after the row whose key_of() is `key`: the next page, at any depth,
    for the cost of the first one."""
    return _rows(conn, _ids(conn, f, 0, limit, beyond=key))


def window_before(conn: dbapi.Connection, f: QueueFilter, key: Key, limit: int) -> list[dbapi.Row]:
    """The `limit` rows right before `key`, in queue order: the previous page."""
    return _rows(conn, _ids(conn, f, 0, limit, forward=False, beyond=key)[::-1])


def iter_all(conn: dbapi.Connection, f: QueueFilter, batch: int = 2000):  # noqa: ANN201
    """Every matching row in queue order, by keyset pages so memory stays flat and each page costs
    the same."""
    rows = window(conn, f, 0, batch)
    while rows:
        yield from rows
        rows = window_after(conn, f, key_of(rows[-1]), batch) if len(rows) == batch else []


def rank(key: Key) -> tuple | None:
    """A key_of() tuple made comparable in queue order (descending columns negated); None when a
    value is missing and the order cannot be placed."""
    if any(v is None for v in key):
        return None
    return tuple(-v if desc else v for v, (_c, desc) in zip(key, _ORDER))


def members(conn: dbapi.Connection, f: QueueFilter, ids: list[int]) -> list[Key]:
    """The queue keys of those of `ids` that the filter holds now: where a changed order stands,
    from the index, without reading a window (a live screen asks after each change)."""
    if not ids:
        return []
    where, args = f.where()
    marks = ",".join("?" * len(ids))
    cols = ", ".join(f"o.{k}" for k in KEY)
    sql = f"SELECT {cols} FROM {f.tables()}{_and(where, f'o.id IN ({marks})')}"
    return [tuple(r) for r in conn.execute(sql, [*args, *ids])]


def count(conn: dbapi.Connection, f: QueueFilter) -> int:
    where, args = f.where()
    return int(conn.execute(f"SELECT COUNT(*) FROM {f.tables()}{where}", args).fetchone()[0])


def count_as_of(conn: dbapi.Connection, f: QueueFilter) -> tuple[int, int]:
    """The count and the last event id, in one statement (one snapshot): a live screen then knows
    which events its count holds already, and may count a new order in itself (tui.queue_source)."""
    where, args = f.where()
    row = conn.execute(f"SELECT (SELECT COUNT(*) FROM {f.tables()}{where}), (SELECT COALESCE(MAX(id), 0) FROM events)",
                       args).fetchone()
    return int(row[0]), int(row[1])


def position(conn: dbapi.Connection, f: QueueFilter, order_id: int) -> int | None:
    """0-based rank of an order within a filtered queue, so a cursor can follow its item."""
    row = conn.execute(f"SELECT {', '.join(KEY)} FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        return None
    where, args = f.where()
    before, bargs = _beyond(tuple(row), forward=False)
    return int(conn.execute(f"SELECT COUNT(*) FROM {f.tables()}{_and(where, before)}", [*args, *bargs]).fetchone()[0])
