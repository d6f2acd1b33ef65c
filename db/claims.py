"""Claims: leases with a token and an expiry, on orders and on returns.

This is the one place with the claim statement: a single-statement UPDATE … WHERE id = (SELECT …)
RETURNING. On SQLite, inside BEGIN IMMEDIATE, it is atomic across processes, and a partial index
keeps it in microseconds; on PostgreSQL the subquery ends `FOR NO KEY UPDATE SKIP LOCKED`
(`_claim_sql`), the statement appends its own event server-side (db.dialect `claim_with_event`),
and a claim on its own is one message to the server (`take_alone`, db/pg/claim.py). Lease, token
and fencing are the same on both.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from core.errors import ClaimLost
from db import dialect, event_chain, events
from db.convert import dt, ts
from db.dbapi import Connection, Row
from db.migrations import QUEUE_ORDER, RETURN_QUEUE_ORDER


@dataclass(frozen=True)
class Queue:
    """What differs between the two claimable tables."""

    table: str
    entity: str
    claimable: str          # WHERE clause for unclaimed, claimable rows (matches a partial index)
    order_by: str
    claim_set: str          # extra SET on claim
    drop_set: str           # extra SET when a claim ends unfinished
    drop_state: str | None  # state recorded after the drop (None: state unchanged)
    claimed_state: str | None = None  # the state `claim_set` sets, which the claim's event records


ORDERS = Queue(
    table="orders",
    entity="order",
    claimable="state = 'queued'",
    order_by=QUEUE_ORDER,
    claim_set="state = 'in_progress',",
    drop_set="state = CASE WHEN state = 'in_progress' THEN 'queued' ELSE state END,",
    drop_state="queued",
    claimed_state="in_progress",
)
RETURNS = Queue(
    table="returns",
    entity="return",
    claimable="claimed_by IS NULL AND state IN ('requested','authorized','received','inspected')",
    order_by=RETURN_QUEUE_ORDER,
    claim_set="",
    drop_set="",
    drop_state=None,
)


#: every claimable queue, for the work that spans them (reaping lapsed leases, the next expiry)
QUEUES = (ORDERS, RETURNS)


@dataclass(frozen=True)
class Narrow:
    """Extra conditions on the next item to claim (the rep's queue filter, db.orders_read): `tables`
    is the FROM with the claimable table aliased `o`, `where` is ANDed to `q.claimable` with named
    parameters `args`. The claimable partial index still drives the scan in queue order."""

    tables: str
    where: str
    args: dict


def new_token() -> str:
    return secrets.token_hex(8)


#: what a claim gives back of the claimed row: what db.service.claiming.Claimed and the claim's
#: event need, not every column (the row is built inside the write lock)
CLAIMED_COLUMNS = "id, number, priority, due_at, state, claimed_by, claim_token, lease_expires_at"


@lru_cache(maxsize=64)
def _claim_sql(q: Queue, by_id: bool, narrow_tables: str | None, narrow_where: str | None, lock: str = "") -> str:
    """The claim statement for a queue and a way of choosing the item, built once per shape.

    `lock` ends the subquery (db.dialect `claim_lock`): nothing on SQLite, where BEGIN IMMEDIATE
    holds the write lock; on PostgreSQL `FOR NO KEY UPDATE SKIP LOCKED`, so racing claimers at READ
    COMMITTED each lock a different row instead of queueing on one. Every eligibility filter is in
    the subquery, before its LIMIT, and the claimable partial index serves it in queue order. With
    a narrowing join, `OF o` locks only the claimable row, not the joined customer."""
    if by_id:
        target = f"SELECT id FROM {q.table} WHERE id = :item AND {q.claimable}{lock}"
    elif narrow_tables is not None:
        order = ", ".join(f"o.{col.strip()}" for col in q.order_by.split(","))
        of = lock.replace(" SKIP LOCKED", " OF o SKIP LOCKED")  # OF comes before SKIP LOCKED in the clause
        target = f"SELECT o.id FROM {narrow_tables} WHERE o.{q.claimable} AND {narrow_where} ORDER BY {order} LIMIT 1{of}"
    else:
        target = f"SELECT id FROM {q.table} WHERE {q.claimable} ORDER BY {q.order_by} LIMIT 1{lock}"
    return f"""UPDATE {q.table} SET {q.claim_set} claimed_by = :user, claim_token = :token,
                claimed_at = :now, lease_expires_at = :exp, version = version + 1, updated_at = :now
            WHERE id = ({target})
            RETURNING {CLAIMED_COLUMNS}"""


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """A claim made ready before the write lock (`plan`), to `take` inside it: the statement, its
    arguments (token and lease included) and the claim's event, all but the item it lands on.
    `appends`: the statement appends the event itself (db.dialect `claim_with_event`), and gives
    back its id and hash as the row's `event_id` and `event_hash`."""

    sql: str
    args: dict
    event: events.Pending
    appends: bool = False
    lapsed: str = ""  # with `appends`: the queue's lapsed-lease probe (`lapsed_sql`), at :lapsed_before


def plan(
    conn: Connection,
    q: Queue,
    *,
    user: str,
    now: datetime,
    lease: timedelta,
    item_id: int | None = None,
    narrow: Narrow | None = None,
) -> ClaimPlan:
    """Everything a claim needs that does not depend on the database's state, built outside the
    write lock (`conn` only says which backend's statement). The event's data is known in advance:
    the token and lease are made here, and the state after a claim is the queue's `claimed_state`."""
    token = new_token()
    at, exp = ts(now), ts(now + lease)
    d = dialect.of(conn)
    sql = _claim_sql(q, item_id is not None, narrow.tables if narrow and item_id is None else None,
                     narrow.where if narrow and item_id is None else None, d.claim_lock)
    args = {"user": user, "token": token, "now": at, "exp": exp, "item": item_id}
    if narrow is not None:
        args = {**narrow.args, **args}
    data = {"claim": "acquire", "token": token, "lease_expires_at": exp}
    if q.claimed_state:
        data["state"] = q.claimed_state
    event = events.pending(at=now, actor=user, entity=q.entity, action="claim", data=data)
    appending = d.claim_with_event(_guarded(sql, q.table))
    if appending is None:
        return ClaimPlan(sql, args, event)
    args.update(ev_entity=event.entity, ev_action=event.action,  # its time and actor: :now and :user
                ev_data=event.data, ev_fixed_head=event.fixed[0], ev_fixed_tail=event.fixed[1], ev_notify=0,
                lapsed_before=None, active_user=None)
    return ClaimPlan(appending, args, event, appends=True, lapsed=lapsed_sql(q.table, ":lapsed_before"))


def lapsed_sql(table: str, before: str) -> str:
    """The probe for a lapsed lease in `table` (one row, or none), off its partial lease index."""
    return f"SELECT 1 FROM {table} WHERE claimed_by IS NOT NULL AND lease_expires_at < {before} LIMIT 1"


@lru_cache(maxsize=64)
def _guarded(sql: str, table: str) -> str:
    """The claim statement of a claim sent at once (`take_alone`): it claims nothing while a lease
    in its queue is lapsed at `:lapsed_before`, as then the lapsed item must be reaped first (it
    may come first in queue order), the long way; nor while `:active_user` is not an active user
    (the check `Context.write` makes, here inside the statement, so the claim's transaction needs
    no statement of its own for it). NULL for either (`take`, inside a checked write transaction,
    after the reap) never holds the claim back."""
    head, tail = sql.rsplit("\n            RETURNING", 1)
    return (f"{head} AND NOT EXISTS ({lapsed_sql(table, ':lapsed_before')})"
            f" AND ({active_sql(':active_user')} OR :active_user IS NULL)\n            RETURNING{tail}")


def active_sql(user: str) -> str:
    """Is `user` an active user? (a condition; the probe of a claim that claimed nothing, db.pg.claim)"""
    return f"EXISTS (SELECT 1 FROM users WHERE name = {user} AND active <> 0)"


def take(conn: Connection, p: ClaimPlan) -> Row | None:
    """Claim the next item (or the planned item_id, or the next one matching `narrow`): the UPDATE,
    and its event if it claimed a row. Call inside write_tx, with a `plan` made before it.
    Returns the claimed row (CLAIMED_COLUMNS) or None."""
    row = conn.execute(p.sql, p.args).fetchone()
    if row is not None:
        if p.appends:
            appended(conn, row)
        else:
            events.append_pending(conn, p.event, row["id"], row["number"])
    return row


def appended(conn: Connection, row: Row) -> None:
    """The server appended the claim's event (`row`'s event_id and event_hash): the transaction's
    held chain head moves past it, and the connection's COMMIT sends the one NOTIFY for it."""
    event_chain.advance(conn, (row["event_id"] + 1, row["event_hash"]))
    conn.events_written(row["event_id"])  # type: ignore[attr-defined] - only a backend that appends has it


class NotActive(Exception):
    """The claiming user was disabled: found inside the claim's own transaction (`take_alone`)."""


#: `take_alone` could not claim at once: claim inside a write transaction of the caller's (`take`)
LONG_WAY = object()


def take_alone(conn: Connection, p: ClaimPlan, active_user: str | None) -> Row | None | object:
    """The claim as a write transaction of its own, sent to the server in one message, where the
    backend can (PostgreSQL: `conn.claim_at_once`, db.pg.claim). Returns the claimed row or None
    (nothing to claim); LONG_WAY when the backend cannot (SQLite) or a lease in the queue has lapsed
    (it must be reaped first): the caller then claims inside its own write transaction, `take`.
    `active_user`: refused with NotActive, inside the transaction, unless still an active user
    (None: an operator, not checked)."""
    at_once = getattr(conn, "claim_at_once", None)
    if at_once is None or not p.appends:
        return LONG_WAY
    return at_once(p, active_user)


def drop(
    conn: Connection,
    q: Queue,
    row: Row,
    *,
    actor: str,
    now: datetime,
    action: str,
    extra: dict | None = None,
) -> None:
    """End a claim without finishing the work: the item goes back to its queue."""
    conn.execute(
        f"""UPDATE {q.table} SET {q.drop_set} claimed_by = NULL, claim_token = NULL, claimed_at = NULL,
               lease_expires_at = NULL, version = version + 1, updated_at = :now WHERE id = :id""",
        {"now": ts(now), "id": row["id"]},
    )
    data = {"claim": "drop", "token": row["claim_token"], "holder": row["claimed_by"], **(extra or {})}
    if q.drop_state and row["state"] == "in_progress":
        data["state"] = q.drop_state
    events.append(conn, at=now, actor=actor, entity=q.entity, entity_id=row["id"], ref=row["number"],
                  action=action, data=data)


def transfer(conn: Connection, q: Queue, row: Row, *, now: datetime,
             lease: timedelta) -> Row:
    """Move a live claim to a new token for the same holder (taken over from another session).

    The holder, the state and `claimed_at` stay (the work started then); the token and the lease
    are new, so the other session's token is fenced out of every write from now on. One event,
    `take_over`, with claim "transfer": `was` is the old token, `token` the new one."""
    token = new_token()
    got = conn.execute(
        f"""UPDATE {q.table} SET claim_token = :token, lease_expires_at = :exp, version = version + 1,
                updated_at = :now WHERE id = :id AND claim_token = :was RETURNING *""",
        {"token": token, "exp": ts(now + lease), "now": ts(now), "id": row["id"], "was": row["claim_token"]},
    ).fetchone()
    if got is None:
        raise ClaimLost(f"{row['number']} changed under this command; try again")
    events.append(conn, at=now, actor=row["claimed_by"], entity=q.entity, entity_id=row["id"], ref=row["number"],
                  action="take_over", data={"claim": "transfer", "token": token, "was": row["claim_token"],
                                            "holder": row["claimed_by"], "lease_expires_at": ts(now + lease)})
    return got


def reap(conn: Connection, q: Queue, now: datetime, item_id: int | None = None) -> int:
    """Return lapsed leases to the queue (as events by 'system'). Cheap: a partial index finds none.

    In bulk (no `item_id`: before a claim, and db.service.claiming.settle_leases) one reaper at a
    time (db.dialect `try_reaper_lock`): when another session is returning leases right now, this
    one skips and claims from what is queued. The named item of a command (`item_id`) is always
    reaped here, in the command's own write transaction, because the fence counts on it: a
    lapsed holder must not pass as the holder."""
    sql = f"SELECT * FROM {q.table} WHERE claimed_by IS NOT NULL AND lease_expires_at < ?"
    args: tuple = (ts(now),)
    if item_id is not None:
        sql += " AND id = ?"
        args += (item_id,)
    rows = conn.execute(sql, args).fetchall()
    if rows and item_id is None:
        if not dialect.of(conn).try_reaper_lock(conn):
            return 0
        rows = conn.execute(sql, args).fetchall()  # as they are now that this session is the reaper
    for row in rows:
        drop(conn, q, row, actor="system", now=now, action="lease_expired")
    return len(rows)


def any_lapsed(conn: Connection, now: datetime, queues: tuple[Queue, ...] = QUEUES) -> bool:
    """Is any lease in any of `queues` past its expiry? A read off the partial lease indexes:
    microseconds, so every read that shows holders can ask it first, and a claim asks it before it
    takes the write lock (db.service.claiming)."""
    return any(conn.execute(lapsed_sql(q.table, "?"), (ts(now),)).fetchone() for q in queues)


def reap_all(conn: Connection, now: datetime) -> int:
    """Return every lapsed lease, in every queue, to its queue. Call inside write_tx."""
    return sum(reap(conn, q, now) for q in QUEUES)


def next_expiry(conn: Connection) -> datetime | None:
    """When the next live lease ends (any queue, any holder): a session schedules its reap for then."""
    ends = [conn.execute(f"SELECT MIN(lease_expires_at) FROM {q.table} WHERE claimed_by IS NOT NULL").fetchone()[0]
            for q in QUEUES]
    known = [e for e in ends if e is not None]
    return dt(min(known)) if known else None


def renew(conn: Connection, q: Queue, *, item_id: int, user: str, token: str,
          now: datetime, lease: timedelta) -> datetime:
    cur = conn.execute(
        f"""UPDATE {q.table} SET lease_expires_at = ? WHERE id = ? AND claimed_by = ? AND claim_token = ?
              AND lease_expires_at >= ?""",
        (ts(now + lease), item_id, user, token, ts(now)),
    )
    if cur.rowcount != 1:
        raise ClaimLost("your claim has lapsed or was taken over; claim the item again")
    return now + lease


def fence(row: Row, *, user: str, token: str | None, now: datetime, need_claim: bool) -> None:
    """Refuse a write from anyone but the live holder with the right token.

    A lapsed lease counts as no claim (the caller reaps it in the same transaction first).
    """
    holder = row["claimed_by"]
    number = row["number"]
    if holder is None:
        if token is not None:
            raise ClaimLost(f"your claim on {number} has lapsed; claim it again")
        if need_claim:
            raise ClaimLost(f"{number} is not claimed by you; claim it first")
        return
    if holder != user:
        raise ClaimLost(f"{number} is claimed by {holder}")
    if token is None:
        raise ClaimLost(f"{number} is claimed by you in another session; pass its claim token, or take it over")
    if token != row["claim_token"]:
        raise ClaimLost(f"your claim on {number} has lapsed (token no longer valid); claim it again")
