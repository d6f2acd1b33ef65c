"""A claim on PostgreSQL as one message to the server: its whole write transaction sent at once.

WHY (issue 18 §9, bench/bench_pg_claim.py): every write transaction takes ONE advisory lock right
after BEGIN (db.pg.connection.write_tx: the event log's ids are assigned in commit order, so
`events --since` and the feed never skip an event). A claim sent statement by statement held that
lock across six round trips (the lock, the user check with the chain's head, the claim, the
event, the NOTIFY, COMMIT), and with 16 claimers on 2 busy cores each of them waited for its
client process to be scheduled again while the 15 others queued at the lock: 0.11 × the bare
SKIP LOCKED loop. Here BEGIN, the lock, the claim-and-append statement (db.pg.dialect
`claim_with_event`: the user's check, the lapsed-lease probe, the event's head read, hash, insert
and NOTIFY are all in it, server-side) and COMMIT go as ONE simple
query (its parameters written in as literals, db.pg.literals), so the lock is held for server work
only, and the client waits once.

Kept as it was: the lock order (the writer lock before any row lock, so no claim can deadlock with
a command that holds the writer lock and waits for a row), the claim statement (every eligibility
filter inside the `FOR NO KEY UPDATE SKIP LOCKED` subquery, on the claimable partial index),
lease, token and fencing, the user's check inside the transaction, one NOTIFY, ids in commit order.
A queue with a lapsed lease is claimed the long way (db.claims.LONG_WAY), which reaps first.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from db.claims import LONG_WAY, ClaimPlan, NotActive, active_sql
from db.feed import poll_only
from db.pg.literals import bind
from db.pg.rows import _row_factory
from db.pg.sql import placeholders

if TYPE_CHECKING:
    from db.pg.connection import PgConnection

#: invalid_sql_statement_name: the session no longer has a statement this process PREPAREd. psycopg
#: sends DEALLOCATE ALL after a ROLLBACK once it has auto-prepared statements of its own, which takes
#: the claim's with it: any refused command before a claim in a long-lived session (the TUI) did so.
NOT_PREPARED = "26000"


#: the claim statements prepared on each server session (PREPARE, once per statement shape): a
#: claim's statement is planned once per session instead of once per claim (~0.4 ms of server CPU,
#: as much as its execution). Keyed by the driver's connection, so a new session prepares again.
_prepared: WeakKeyDictionary[psycopg.Connection, dict[str, str]] = WeakKeyDictionary()
_PARAM = re.compile(r"(?<!%)%\((\w+)\)s")


@lru_cache(maxsize=64)
def _shape(claim_sql: str) -> tuple[str, tuple[str, ...]]:
    """The claim statement with positional parameters ($1…, for PREPARE), and their names in order."""
    names: list[str] = []

    def number(m: re.Match) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _PARAM.sub(number, placeholders(claim_sql)), tuple(names)


def _prepared_name(raw: psycopg.Connection, claim_sql: str) -> tuple[str, tuple[str, ...]]:
    """PREPARE the claim statement on this session if it is not yet; its name and parameter names.
    Not behind pgbouncer in transaction mode (`ORDERQ_FEED=poll`, the setting for it): there the
    next transaction may run on another server session, which has no such statement; the claim
    is then sent whole each time (`_message` with no name)."""
    body, names = _shape(claim_sql)
    have = _prepared.get(raw)
    name = None if have is None else have.get(body)
    if name is not None:  # prepared on this session already (never so with poll_only)
        return name, names
    if poll_only():
        return "", names
    have = _prepared.setdefault(raw, {})
    name = f"orderq_claim_{len(have) + 1}"
    raw.execute(f"PREPARE {name} AS {body}".replace("%%", "%"), prepare=False)
    have[body] = name
    return name, names


@lru_cache(maxsize=64)
def _message(claim_sql: str, name: str, names: tuple[str, ...]) -> str:
    """The claim's transaction as one simple query: results BEGIN, the lock, the claimed row, COMMIT.
    The user's active check is in the claim statement (db.claims `_guarded`), not a statement here."""
    from db.pg.connection import WRITE_LOCK

    claim = f"EXECUTE {name}({', '.join(f'%({n})s' for n in names)})" if name else placeholders(claim_sql)
    return f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK}); {claim}; COMMIT"


@lru_cache(maxsize=64)
def _why_not(lapsed: str) -> str:
    """Why a claim sent at once claimed nothing, when it did not: (a lease is lapsed, the user is active)."""
    return placeholders(f"SELECT EXISTS ({lapsed}), {active_sql(':active_user')} OR :active_user IS NULL")


def claim_at_once(conn: PgConnection, p: ClaimPlan, active_user: str | None) -> Any:
    """Run the claim `p` (a plan whose statement appends its event) as its own transaction, in one
    round trip. Returns the claimed row, None, or LONG_WAY (a lapsed lease: nothing was claimed);
    raises NotActive, or the store's error for a lock timeout or a lost connection (nothing written)."""
    from db.connection import count_commit, translate
    from db.pg.connection import _translate

    if conn.in_transaction:
        raise RuntimeError("a claim sent at once is a transaction of its own")
    conn.link.before(conn.raw, "BEGIN", conn._run, conn._reconnect)  # a dead connection is replaced here
    raw = conn.raw
    args = {**p.args, "ev_notify": 1, "lapsed_before": p.args["now"], "active_user": active_user}
    try:
        for attempt in (1, 2):
            try:
                row, lapsed = _send(raw, p, args, active_user)
                break
            except psycopg.Error as e:
                _end_failed(conn)
                if e.sqlstate == NOT_PREPARED and attempt == 1 and not raw.closed:
                    # the statement was deallocated under us (NOT_PREPARED): the EXECUTE failed, so
                    # nothing was claimed; prepare it again and send the claim once more
                    _prepared.pop(raw, None)
                    continue
                raise translate(_translate(e)) from None
    finally:
        conn.link.forget()
    if row is None:
        count_commit(False)
        return LONG_WAY if lapsed else None
    conn.total_changes += 1
    count_commit(True)
    return row


def _send(raw: psycopg.Connection, p: ClaimPlan, args: dict[str, Any], active_user: str | None) -> tuple[Any, bool]:
    """The claim's one message; (the claimed row or None, whether a lapsed lease kept it from running).
    Raises NotActive when the user's check kept it from running. Asked after the transaction, only
    when nothing was claimed: a user enabled again in between reads as an empty queue, once."""
    name, names = _prepared_name(raw, p.sql)
    cur = raw.cursor(row_factory=tuple_row)  # BEGIN's and the lock's results need no named rows
    cur.execute(bind(raw, _message(p.sql, name, names), args), prepare=False)  # no parameters: sent as is
    cur.nextset()
    cur.nextset()
    cur.row_factory = _row_factory  # the claimed row, by column name
    row = cur.fetchone()
    if row is not None:
        return row, False
    lapsed, active = raw.execute(_why_not(p.lapsed), args, prepare=False).fetchone()
    if not active:
        raise NotActive(active_user)
    return None, bool(lapsed)


def _end_failed(conn: PgConnection) -> None:
    """After a failed message: the server skipped what followed the error (COMMIT too), so the
    transaction is open and aborted; end it. A connection that died has nothing left to end."""
    raw = conn.raw
    if raw.closed or raw.broken:
        conn.link.failed(raw)
        return
    if raw.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            raw.execute("ROLLBACK", prepare=False)
        except psycopg.Error:
            conn.link.failed(raw)
