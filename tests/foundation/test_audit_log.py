"""The audit log cannot be rewritten unnoticed (SPEC §6, issue 17 item 7).

Tampering is done the way an intruder would: a raw sqlite3 connection on the real file, behind
the app's back. `orderq check` (a real process) must then exit non-zero with a FAIL line naming
what broke; the triggers must refuse what they can.
"""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from db import dbapi
from db.check_audit import chain_intact
from db.event_chain import GUARD_TRIGGERS
from db.service import Desk
from db.store import Store
from tests.conftest import connect_db, run_cli

SQLITE_TAMPERING = pytest.mark.sqlite_only("tampers through SQLite's triggers and SQL (PostgreSQL's: tests/pg/test_pg_schema.py)")
CHAIN = "audit log hash chain intact"
TRIGGERS = "audit log guard triggers present"


def _raw(path: Path) -> dbapi.Connection:
    """A raw session behind the app's back: sqlite3 in autocommit mode, or PostgreSQL's (autocommit)."""
    return sqlite3.connect(path, isolation_level=None) if isinstance(path, Path) else connect_db(path)


def _fail_lines(path: Path) -> tuple[int, list[str]]:
    proc = run_cli("--db", str(path), "check")
    return proc.returncode, [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]


def _mid_event(c: sqlite3.Connection) -> int:
    """An event in the middle of the log that no other invariant looks at (a user or session
    event), so only the audit checks can notice it changing."""
    n = c.execute("SELECT MAX(id) FROM events").fetchone()[0]
    row = c.execute("SELECT id FROM events WHERE entity IN ('user','session') AND id > 1 AND id < ? ORDER BY id LIMIT 1",
                    (n,)).fetchone()
    if row is None:  # fall back on any middle event
        row = (n // 2,)
    return int(row[0])


@SQLITE_TAMPERING
def test_insert_or_replace_of_an_event_is_refused_and_the_actor_stays(demo_db: Path) -> None:
    c = _raw(demo_db)
    eid = _mid_event(c)
    actor = c.execute("SELECT actor FROM events WHERE id = ?", (eid,)).fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="REPLACE of an event refused"):
        c.execute("INSERT OR REPLACE INTO events (id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash)"
                  " SELECT id, at, 'mallory', entity, entity_id, ref, action, data, prev_hash, hash FROM events"
                  " WHERE id = ?", (eid,))
    assert c.execute("SELECT actor FROM events WHERE id = ?", (eid,)).fetchone()[0] == actor
    c.close()
    assert _fail_lines(demo_db) == (0, [])


def test_a_clean_demo_database_passes_and_every_event_is_chained(demo_db: Path) -> None:
    c = _raw(demo_db)
    assert c.execute("SELECT COUNT(*) FROM events WHERE hash IS NULL OR prev_hash IS NULL").fetchone()[0] == 0
    c.close()
    assert _fail_lines(demo_db) == (0, [])


# each tampering: (what, raw SQL with {eid} for a middle event, the check that must FAIL, words in its FAIL line)
TAMPERING = {
    "update of an actor": (["DROP TRIGGER events_no_update",
                            "UPDATE events SET actor = 'mallory' WHERE id = {eid}"],
                           CHAIN, "event {eid}: its contents do not match its hash"),
    "delete of a middle event": (["DROP TRIGGER events_no_delete", "DELETE FROM events WHERE id = {eid}"],
                                 CHAIN, "event {next}: event {eid} is missing before it"),
    "replaced row": (["DROP TRIGGER events_no_replace",
                      "INSERT OR REPLACE INTO events (id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash)"
                      " SELECT id, at, 'mallory', entity, entity_id, ref, action, data, prev_hash, hash FROM events"
                      " WHERE id = {eid}"],
                     CHAIN, "event {eid}: its contents do not match its hash"),
    "forged event appended without a hash": (["INSERT INTO events (at, actor, entity, action, data)"
                                              " VALUES (0, 'mallory', 'user', 'user_added', '{{}}')"],
                                             CHAIN, "event {last1}: has no hash"),
    "newest event removed": (["DROP TRIGGER events_no_delete", "DELETE FROM events WHERE id = {last}"],
                             CHAIN, "events after {prev_last} were removed"),
    "dropped trigger": (["DROP TRIGGER events_no_update"], TRIGGERS, "trigger events_no_update is missing"),
    "altered trigger": (["DROP TRIGGER events_no_delete",
                         "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END"],
                        TRIGGERS, "trigger events_no_delete was altered"),
}


@SQLITE_TAMPERING
@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_behind_the_apps_back_is_a_named_check_failure(demo_db: Path, what: str) -> None:
    sqls, check, words = TAMPERING[what]
    c = _raw(demo_db)
    eid = _mid_event(c)
    last = c.execute("SELECT MAX(id) FROM events").fetchone()[0]
    names = {"eid": eid, "next": eid + 1, "prev": eid - 1, "last": last, "last1": last + 1, "prev_last": last - 1}
    assert _fail_lines(demo_db) == (0, [])
    for sql in sqls:
        c.execute(sql.format(**names))
    c.close()
    rc, fails = _fail_lines(demo_db)
    assert rc == 1
    want = f"FAIL {check}: {words.format(**names)}"
    assert any(line.startswith(want) for line in fails), fails


@SQLITE_TAMPERING
def test_removing_the_newest_events_is_found_even_after_the_desk_writes_on(demo_db: Path) -> None:
    c = _raw(demo_db)
    last = c.execute("SELECT MAX(id) FROM events").fetchone()[0]
    c.execute("DROP TRIGGER events_no_delete")
    c.execute("DELETE FROM events WHERE id >= ?", (last - 2,))
    c.close()
    run_cli("--db", str(demo_db), "claim", "--user", "alice", check=True)  # the app writes on after the cut
    rc, fails = _fail_lines(demo_db)
    assert rc == 1
    assert f"FAIL {CHAIN}: event {last + 1}: events {last - 2}–{last} are missing before it (removed)" in fails, fails


def _old_schema(path: Path) -> None:
    """Turn a database back into what the release before the chain wrote: no hash columns, no
    REPLACE trigger, the migration not applied."""
    c = _raw(path)
    c.executescript("""
        DROP TRIGGER events_no_replace;
        DROP TRIGGER events_no_update;
        ALTER TABLE events DROP COLUMN hash;
        ALTER TABLE events DROP COLUMN prev_hash;
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END;
        DELETE FROM _sqlite_migrations WHERE name = 'm500_event_hash_chain';
    """)
    c.close()


@SQLITE_TAMPERING
def test_init_chains_an_existing_database_and_it_keeps_passing(demo_db: Path) -> None:
    _old_schema(demo_db)
    run_cli("--db", str(demo_db), "init", check=True)
    c = _raw(demo_db)
    assert c.execute("SELECT COUNT(*) FROM events WHERE hash IS NULL").fetchone()[0] == 0
    assert {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")} >= set(GUARD_TRIGGERS)
    c.close()
    assert _fail_lines(demo_db) == (0, [])
    # and the events written after the migration chain on from the back-filled ones
    run_cli("--db", str(demo_db), "claim", "--user", "alice", check=True)
    assert _fail_lines(demo_db) == (0, [])


def _writer(path: str, user: str, rounds: int, start: "mp.synchronize.Event") -> None:
    """Claim the next order and give it back, `rounds` times: two commands, two events each time."""
    desk = Desk.for_user(Store.open(path), user)
    start.wait(60)
    for _ in range(rounds):
        item = desk.orders.claim_next()
        if item is not None:
            desk.orders.unclaim(item.number, item.claim_token)


def test_processes_writing_at_once_leave_one_valid_chain(demo_db: Path) -> None:
    c = _raw(demo_db)
    before = c.execute("SELECT MAX(id) FROM events").fetchone()[0]
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(demo_db), u, 25, start)) for u in ["alice", "bob"] * 3]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    c.row_factory = sqlite3.Row
    assert c.execute("SELECT COUNT(*) FROM events WHERE id > ?", (before,)).fetchone()[0] == 6 * 25 * 2
    assert chain_intact(c) == []
    c.close()
    assert _fail_lines(demo_db) == (0, [])
