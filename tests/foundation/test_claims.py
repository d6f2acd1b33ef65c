"""Claims on a real WAL file: atomic across processes, leases expire, stale tokens are fenced."""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from core.errors import ClaimLost, PermissionDenied
from db.check import run_checks
from db.service import Desk
from db.store import Store
from tests.conftest import connect_db, json_lines


def _claimer(path: str, user: str, out: "mp.Queue[list[str]]") -> None:
    store = Store.open(path)
    desk = Desk.for_user(store, user)
    got: list[str] = []
    while (item := desk.orders.claim_next()) is not None:
        got.append(item.number)
    out.put(got)


def _queued(path: Path) -> int:
    c = connect_db(path)
    try:
        return c.execute("SELECT COUNT(*) FROM orders WHERE state='queued'").fetchone()[0]
    finally:
        c.close()


def test_eight_processes_claim_every_item_exactly_once(demo_db: Path) -> None:
    queued = _queued(demo_db)
    assert queued > 20
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    users = ["alice", "bob"] * 4
    procs = [ctx.Process(target=_claimer, args=(str(demo_db), u, out)) for u in users]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    claimed = Counter(n for r in results for n in r)
    assert sum(claimed.values()) == queued
    assert all(v == 1 for v in claimed.values()), "an item was claimed twice"
    assert _queued(demo_db) == 0
    conn = connect_db(demo_db)
    conn.row_factory = sqlite3.Row
    assert all(r.ok for r in run_checks(conn)), [r.problems for r in run_checks(conn)]


def test_cli_race_of_eight_claimers_then_check_passes(demo_db: Path, cli) -> None:
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "orderq"
    procs = [subprocess.Popen([str(exe), "--db", str(demo_db), "claim", "--user", u, "--count", "50", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for u in ["alice", "bob"] * 4]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    numbers = [row["number"] for o in outs for row in json_lines(o[0])]
    assert len(numbers) == len(set(numbers)) > 0
    assert cli("--db", str(demo_db), "check").returncode == 0


def test_claim_prints_items_in_queue_order(demo_db: Path, cli) -> None:
    listed = [r["number"] for r in json_lines(cli("--db", str(demo_db), "order", "list", "--state", "queued", "--json",
                                                  check=True).stdout)]
    got = json_lines(cli("--db", str(demo_db), "claim", "--user", "alice", "--count", "5", "--json", check=True).stdout)
    assert [g["number"] for g in got] == listed[:5]
    assert all({"id", "number", "priority", "due_at", "claim_token"} <= set(g) for g in got)
    assert len({g["claim_token"] for g in got}) == 5


def test_empty_queue_prints_nothing(db_path: Path, cli) -> None:
    cli("--db", str(db_path), "users", "add", "alice", "--role", "rep", check=True)
    proc = cli("--db", str(db_path), "claim", "--user", "alice", "--json")
    assert proc.returncode == 0 and proc.stdout == ""


def test_lease_expiry_returns_item_and_fences_stale_token(demo_db: Path, desk_for, clock) -> None:
    alice = desk_for(demo_db, "alice")
    bob = desk_for(demo_db, "bob")
    item = alice.orders.claim_next()
    assert item is not None
    assert alice.orders.get(item.number).state.value == "in_progress"
    clock.advance(minutes=11)  # default lease is 10 min
    # the lapsed claim comes back to the queue: bob gets it first (it kept its place)
    again = bob.orders.claim(item.number)
    assert again.claim_token != item.claim_token
    with pytest.raises(ClaimLost, match="claimed by bob"):
        alice.orders.tick(item.number, "confirm ship-to", token=item.claim_token)
    bob.orders.tick(item.number, "confirm ship-to", token=again.claim_token)
    events = [e.action for e in bob.orders.history(item.number)]
    assert events[-3:] == ["lease_expired", "claim", "tick"]


def test_stale_token_refused_even_for_the_same_user(demo_db: Path, desk_for, clock) -> None:
    alice = desk_for(demo_db, "alice")
    first = alice.orders.claim_next()
    clock.advance(minutes=11)
    with pytest.raises(ClaimLost, match="lapsed"):
        alice.orders.tick(first.number, "confirm ship-to", token=first.claim_token)


def test_renew_keeps_the_claim_alive(demo_db: Path, desk_for, clock) -> None:
    alice = desk_for(demo_db, "alice")
    item = alice.orders.claim_next()
    for _ in range(3):
        clock.advance(minutes=8)
        alice.orders.renew(item.number, item.claim_token)
    bob = desk_for(demo_db, "bob")
    with pytest.raises(ClaimLost, match="claimed by alice"):
        bob.orders.claim(item.number)


def test_supervisor_force_release_and_reassign(demo_db: Path, desk_for) -> None:
    alice, sam = desk_for(demo_db, "alice"), desk_for(demo_db, "sam")
    item = alice.orders.claim_next()
    with pytest.raises(PermissionDenied):
        alice.orders.reassign(item.number, "bob")
    moved = sam.orders.reassign(item.number, "bob", "alice is at lunch")
    o = sam.orders.get(item.number)
    assert o.claimed_by == "bob" and o.claim_token == moved.claim_token
    sam.orders.force_release(item.number, "bob went home")
    assert sam.orders.get(item.number).state.value == "queued"
    assert all(r.ok for r in run_checks(sam.store.conn))


def test_session_give_back_returns_all_its_claims(demo_db: Path, desk_for) -> None:
    alice = desk_for(demo_db, "alice")
    items = [alice.orders.claim_next() for _ in range(3)]
    assert alice.orders.give_back([i.claim_token for i in items]) == 3
    assert {alice.orders.get(i.number).state.value for i in items} == {"queued"}
