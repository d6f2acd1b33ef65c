"""Tamper evidence for the event log: a hash chain over the events, and the guard triggers.

SPEC §6: events cannot be altered, and an alteration made behind the app's back (raw SQL) is
detected by `orderq check`. Triggers refuse UPDATE, DELETE and a REPLACE of an existing id,
but anyone with the file can drop a trigger. So each event also carries `hash` =
sha256(canonical encoding of its columns and `prev_hash`), where `prev_hash` is the hash of the
event before it. Altering, removing, replacing or inserting an event without recomputing every
later hash breaks the chain at that event, and `check` names it (db/check_audit.py).

What the chain cannot catch on its own: someone who recomputes every hash from the tampered
event to the end, or removes the newest events and also lowers `sqlite_sequence`. Only a copy of
a recent hash kept outside the file (a backup, say) would expose that.

The hash is computed in Python (SQLite has no sha256 built in) by the one event writer,
db/events.py, inside the command's BEGIN IMMEDIATE transaction, so the previous event read there
is the real last one even with many processes writing. One exception: on PostgreSQL a claim's
event is appended by the server (the claim statement itself, db.pg.dialect `claim_with_event`: the
same encoding, with `encode_fixed`'s parts made here), so a claim holds the writer lock for no round trip.
"""
from __future__ import annotations

import hashlib
import sqlite3

from db import dialect

GENESIS = "0" * 64  # the prev_hash of the first event

# The guard triggers, exactly as `orderq check` expects to find them in sqlite_master (compared
# with whitespace collapsed). A migration lays them down from these strings; changing one means
# a new migration that drops and recreates it.
GUARD_TRIGGERS: dict[str, str] = {
    "events_no_update": "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
                        "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END",
    "events_no_delete": "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
                        "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END",
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers (recursive_triggers is off)
    "events_no_replace": "CREATE TRIGGER events_no_replace BEFORE INSERT ON events "
                         "WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id) "
                         "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: REPLACE of an event refused'); END",
}

# the columns hashed, in this order, then prev_hash
COLUMNS = "id, at, actor, entity, entity_id, ref, action, data"


def event_hash(prev: str, eid: int, at: float, actor: str, entity: str, entity_id: int | None,
               ref: str | None, action: str, data: str) -> str:
    """sha256 (hex) of `id|at|actor|entity|entity_id|ref|action|data|prev_hash`, each column typed as
    SQLite gives it back (INTEGER; REAL as its repr; TEXT prefixed with its length, so no content can
    pass for a field boundary; NULL as `~`), so the writer and the checker encode a row alike.
    Not JSON: this runs inside every command's write lock, and escaping `data` (itself JSON) cost
    half as much again."""
    return chain_hash(prev, eid, encode_fixed(at, actor, entity, action, data), entity_id, ref)


def encode_fixed(at: float, actor: str, entity: str, action: str, data: str) -> tuple[str, str]:
    """The parts of an event's hash input that do not depend on its place in the log or on which
    item it is about: `event_hash`'s encoding, split so that a claim can build them before it takes
    the write lock (db.events.Pending) and do only `chain_hash` inside it."""
    actor, entity, action, data = str(actor), str(entity), str(action), str(data)
    return (f"|{float(at)!r}|{len(actor)}:{actor}|{len(entity)}:{entity}|",
            f"|{len(action)}:{action}|{len(data)}:{data}|")


def chain_hash(prev: str, eid: int, fixed: tuple[str, str], entity_id: int | None, ref: str | None) -> str:
    """`event_hash` from the parts `encode_fixed` gave, and the event's id, item and predecessor."""
    ref = None if ref is None else str(ref)
    canon = (f"{int(eid)}{fixed[0]}{'~' if entity_id is None else int(entity_id)}|"
             f"{'~' if ref is None else f'{len(ref)}:{ref}'}{fixed[1]}{prev}")
    return hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()


def _head_sql(conn: sqlite3.Connection) -> str:
    """The chain's head as SQL scalars: the last event's id and hash, and the backend's high-water mark
    of ids (an empty log still has a row here: NULL, NULL, seq or NULL). Writers are serialised
    before it is read: by BEGIN IMMEDIATE on SQLite, by write_tx's advisory lock on PostgreSQL
    (db/pg/connection.py), so the head read is the real last event and ids follow commit order."""
    d = dialect.of(conn)
    return ("(SELECT id FROM events ORDER BY id DESC LIMIT 1), (SELECT hash FROM events ORDER BY id DESC LIMIT 1), "
            f"{d.event_seq}")

#: the head a command's write transaction has read (and advanced with each event it wrote), by
#: connection; set by `hold` (after `active_and_head`), only for the span of that one transaction
_held: dict[sqlite3.Connection, tuple[int, str]] = {}


def _next(last_id: int | None, last_hash: str | None, seq: int | None) -> tuple[int, str]:
    """The next id follows AUTOINCREMENT's rule (past the largest id ever used, per sqlite_sequence)
    so an id is never reused; it is given explicitly because the hash covers it."""
    return max(int(last_id or 0), int(seq or 0)) + 1, last_hash or GENESIS


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """(the id the next event takes, the hash it chains to). Call inside the write transaction.

    Within a user's command the head was already read with the actor's check (`active_and_head`)
    and is kept here as events are written, so it is not read again; otherwise it is read now."""
    held = _held.get(conn)
    if held is not None:
        return held
    return _next(*conn.execute(f"SELECT {_head_sql(conn)}").fetchone())


def active_and_head(conn: sqlite3.Connection, user: str) -> tuple[bool, tuple[int, str]]:
    """Is `user` an active user, and the chain's head: one read at the start of a command's write
    transaction (after BEGIN IMMEDIATE), where every statement is time the write lock is held by
    this process, so two reads become one. `hold` the head for the rest of the transaction."""
    return flag_and_head(conn, "SELECT active FROM users WHERE name = ?", (user,))


def flag_and_head(conn: sqlite3.Connection, flag_sql: str, args: tuple) -> tuple[bool, tuple[int, str]]:
    """`active_and_head` for any actor's gate: `flag_sql` is a scalar query (a partner's `active`)."""
    flag, last_id, last_hash, seq = conn.execute(f"SELECT ({flag_sql}), {_head_sql(conn)}", args).fetchone()
    return bool(flag), _next(last_id, last_hash, seq)


def hold(conn: sqlite3.Connection, top: tuple[int, str]) -> None:
    """Keep `top` as the chain head of the write transaction open on `conn`; `release` it before
    that transaction ends (a head held past COMMIT would be stale at the next command).

    Sound because writers are serialised by BEGIN IMMEDIATE (nobody else appends until this
    transaction ends) and every event goes through db.events.append_many, which advances the held
    head after each insert, or drops it if the insert failed."""
    _held[conn] = top


def release(conn: sqlite3.Connection) -> None:
    _held.pop(conn, None)


def advance(conn: sqlite3.Connection, top: tuple[int, str] | None) -> None:
    """After events were written (`top`: the new head) or failed to be (None: read it again)."""
    if conn in _held:
        if top is None:
            del _held[conn]
        else:
            _held[conn] = top


def backfill(conn: sqlite3.Connection, batch: int = 5000) -> int:
    """Give every event without a hash its place in the chain, in id order (the migration that adds
    the chain to an existing database). Needs the UPDATE trigger out of the way; returns how many."""
    prev = GENESIS
    cursor = 0
    done = 0
    while True:
        rows = conn.execute(f"SELECT {COLUMNS}, hash FROM events WHERE id > ? ORDER BY id LIMIT ?",
                            (cursor, batch)).fetchall()
        if not rows:
            return done
        updates = []
        for r in rows:
            h = r[8] if r[8] is not None else event_hash(prev, *r[:8])
            if r[8] is None:
                updates.append((prev, h, r[0]))
            prev = h
        conn.executemany("UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?", updates)
        done += len(updates)
        cursor = rows[-1][0]
