"""What a claim does while it holds the database's one write lock (SPEC §5, claim budgets).

With 16 processes claiming, throughput is set by how long each holds the write lock, and every
statement inside BEGIN IMMEDIATE … COMMIT is time no other process can write. A wall-clock
assertion would be flaky on shared cores, so these count the statements instead, and check that
the shortcut behind the count (the audit chain's head read once with the user check, and held for
the transaction) still leaves a chain `orderq check` accepts. Real WAL files throughout.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from db import events
from db.check_audit import chain_intact
from db.service import Desk
from tests.conftest import connect_db


def _statements_in_the_write_lock(desk: Desk, act) -> list[str]:  # noqa: ANN001
    """The statements `act()` ran between BEGIN IMMEDIATE and COMMIT, by their first words."""
    seen: list[str] = []
    conn = desk.store.conn
    conn.set_trace_callback(seen.append)
    try:
        act()
    finally:
        conn.set_trace_callback(None)
    begin = max(i for i, s in enumerate(seen) if s.strip() == "BEGIN IMMEDIATE")
    end = max(i for i, s in enumerate(seen) if s.strip() == "COMMIT")
    inside = seen[begin + 1:end + 1]
    # SQLite traces a statement again when a trigger on it runs (events_no_replace): count it once
    inside = [s for i, s in enumerate(inside) if i == 0 or s != inside[i - 1]]
    return [" ".join(s.split()[:3]) for s in inside]


@pytest.mark.sqlite_only("traces SQLite's write-lock statements (set_trace_callback, PRAGMA)")
def test_a_claim_holds_the_write_lock_for_three_statements_and_the_commit(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """Before: the user check, the lapsed-lease probe, the claim, a second read for the chain's
    head, the event, a PRAGMA restoring the busy timeout, then COMMIT (seven); then five, with the
    lapsed-lease probe still inside. The probe is a read: it runs before BEGIN IMMEDIATE, and the
    reap (a write) runs inside only when the probe found a lapsed lease."""
    alice = desk_for(demo_db, "alice")
    alice.orders.claim_next()  # the first use of each statement prepares it: count a warm claim
    inside = _statements_in_the_write_lock(alice, alice.orders.claim_next)
    assert inside == [
        "SELECT (SELECT active",        # the actor is still active, and the audit chain's head
        "UPDATE orders SET",            # the claim itself
        "INSERT INTO events",           # its event, chained onto the head read above
        "COMMIT",
    ]


@pytest.mark.sqlite_only("traces SQLite's write-lock statements (set_trace_callback, PRAGMA)")
def test_a_lapsed_lease_found_before_the_lock_is_returned_inside_it_then_claimed(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """The probe before the lock sees bob's lapsed lease, so alice's claim returns it to the queue
    (a `lease_expired` event by 'system') and claims it next, in one transaction."""
    bob = desk_for(demo_db, "bob")
    held = bob.orders.claim_next()
    later = bob.ctx.now() + bob.ctx.rules.lease + timedelta(minutes=1)
    alice = desk_for(demo_db, "alice", clock=lambda: later)
    inside = _statements_in_the_write_lock(alice, alice.orders.claim_next)
    assert inside[1:3] == ["SELECT * FROM", "UPDATE orders SET"]  # the reap's read, then its drop
    conn = connect_db(demo_db)
    last = conn.execute("SELECT actor, action, ref FROM events ORDER BY id DESC LIMIT 2").fetchall()
    assert last == [("alice", "claim", held.number), ("system", "lease_expired", held.number)]
    assert chain_intact(conn) == []


@pytest.mark.sqlite_only("traces SQLite's write-lock statements (set_trace_callback, PRAGMA)")
def test_after_a_write_the_connection_waits_for_a_busy_database_again(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """The busy timeout is restored after COMMIT, not inside the lock: a read right after a claim
    (or after a refused command) still waits for a busy database instead of failing at once."""
    alice = desk_for(demo_db, "alice")
    timeout = lambda: alice.store.conn.execute("PRAGMA busy_timeout").fetchone()[0]  # noqa: E731
    alice.orders.claim_next()
    assert timeout() == 5000
    with pytest.raises(Exception, match="nope"), alice.ctx.write():
        raise RuntimeError("nope")
    assert timeout() == 5000


def test_several_events_in_one_command_each_chain_onto_the_last(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """A reassign writes three events in one transaction (force release, claim, reassign) on the
    head read once at its start; another session's claim chains on after them."""
    bob, sam = desk_for(demo_db, "bob"), desk_for(demo_db, "sam")
    held = bob.orders.claim_next()
    sam.orders.reassign(held.number, "alice", reason="cover")
    desk_for(demo_db, "alice").orders.claim_next()
    conn = connect_db(demo_db)
    assert [a for (a,) in conn.execute("SELECT action FROM events ORDER BY id DESC LIMIT 4")] == \
        ["claim", "reassign", "claim", "force_release"]
    assert chain_intact(conn) == []


@pytest.mark.sqlite_only('SQLite goes on after a failed INSERT; PostgreSQL aborts the whole transaction there')
def test_an_event_insert_that_fails_inside_a_command_does_not_break_the_chain(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """Two events where the second cannot be stored: the first is in the table, so the held head
    is stale; the next event in the same transaction must chain onto the first, not reuse its id."""
    alice = desk_for(demo_db, "alice")
    now = alice.ctx.now().timestamp()
    good = (now, "alice", "order", 1, "SO-1", "note", events.dumps({"n": 1}))
    bad = (now, None, "order", 1, "SO-1", "note", events.dumps({"n": 2}))  # events.actor is NOT NULL
    with alice.ctx.write() as c:
        with pytest.raises(sqlite3.IntegrityError):
            events.append_many(c, [good, bad])
        events.append_many(c, [good])
    conn = connect_db(demo_db)
    assert [a for (a,) in conn.execute("SELECT action FROM events ORDER BY id DESC LIMIT 2")] == ["note", "note"]
    assert chain_intact(conn) == []


def test_the_claim_event_built_before_the_lock_records_the_claim_it_landed_on(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """The event's JSON and the fixed part of its hash are made before BEGIN IMMEDIATE, when the
    item is not yet known: the stored event still names the item claimed, its token, lease and
    state, under the claimer, and its hash is the one `orderq check` recomputes from the row."""
    alice = desk_for(demo_db, "alice")
    got = alice.orders.claim_next()
    conn = connect_db(demo_db)
    conn.row_factory = sqlite3.Row
    ev = conn.execute("SELECT * FROM events ORDER BY id DESC LIMIT 1").fetchone()
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (got.id,)).fetchone()
    assert (ev["actor"], ev["entity"], ev["entity_id"], ev["ref"], ev["action"]) == \
        ("alice", "order", got.id, got.number, "claim")
    assert json.loads(ev["data"]) == {"claim": "acquire", "token": got.claim_token, "state": "in_progress",
                                      "lease_expires_at": order["lease_expires_at"]}
    assert order["state"] == "in_progress" and ev["at"] == order["claimed_at"]
    assert chain_intact(conn) == []
