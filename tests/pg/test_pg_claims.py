"""Claims on PostgreSQL: the same lease, token and fencing semantics as on SQLite, and SKIP LOCKED
claimers in several processes never take one item twice."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ClaimLost, PermissionDenied
from db.check import run_checks
from db.claims import ORDERS, _claim_sql
from db.pg.dialect import PG
from tests.conftest import json_lines, run_cli


def test_the_claim_statement_locks_with_skip_locked_inside_its_subquery() -> None:
    sql = " ".join(_claim_sql(ORDERS, False, None, None, PG.claim_lock).split())
    sub = sql[sql.index("(SELECT"):sql.index(") RETURNING")]
    assert "WHERE state = 'queued' ORDER BY" in sub  # the eligibility filter is inside the locked subquery
    assert sub.endswith("LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED")


def test_claim_then_release_on_postgresql(pg_demo_url: str, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(pg_demo_url, "alice")
    item = alice.orders.claim_next()
    assert item is not None
    order = alice.orders.get(item.number)
    assert order.state.value == "in_progress" and order.claimed_by == "alice"
    alice.orders.unclaim(item.number, item.claim_token)
    assert alice.orders.get(item.number).state.value == "queued"
    assert all(r.ok for r in run_checks(alice.store.conn))


def test_a_lapsed_lease_comes_back_and_its_stale_token_is_fenced(pg_demo_url: str, desk_for, clock) -> None:  # noqa: ANN001
    alice, bob = desk_for(pg_demo_url, "alice"), desk_for(pg_demo_url, "bob")
    item = alice.orders.claim_next()
    clock.advance(minutes=11)  # the default lease is 10 minutes
    again = bob.orders.claim(item.number)
    assert again.claim_token != item.claim_token
    with pytest.raises(ClaimLost, match="claimed by bob"):
        alice.orders.tick(item.number, "confirm ship-to", token=item.claim_token)
    bob.orders.tick(item.number, "confirm ship-to", token=again.claim_token)
    assert [e.action for e in bob.orders.history(item.number)][-3:] == ["lease_expired", "claim", "tick"]


def test_a_stale_token_is_refused_even_for_the_same_user(pg_demo_url: str, desk_for, clock) -> None:  # noqa: ANN001
    alice = desk_for(pg_demo_url, "alice")
    first = alice.orders.claim_next()
    clock.advance(minutes=11)
    with pytest.raises(ClaimLost, match="lapsed"):
        alice.orders.tick(first.number, "confirm ship-to", token=first.claim_token)


def test_claim_next_takes_the_queue_in_the_order_sqlite_does(pg_demo_url: str, demo_db: Path, desk_for) -> None:  # noqa: ANN001
    # both demo templates are `demo --orders 300 --seed 1` made now: the same orders, the same queue order
    pg, lite = desk_for(pg_demo_url, "alice"), desk_for(demo_db, "alice")
    got_pg = [pg.orders.claim_next().number for _ in range(8)]
    got_lite = [lite.orders.claim_next().number for _ in range(8)]
    assert got_pg == got_lite
    assert len(set(got_pg)) == 8


def test_six_claimers_in_parallel_never_take_one_item_twice(pg_demo_url: str) -> None:
    queued = len(json_lines(run_cli("order", "list", "--state", "queued", "--json",
                                    env={"ORDERQ_DB": pg_demo_url}, check=True).stdout))
    exe = Path(sys.executable).parent / "orderq"
    env = {**__import__("os").environ, "ORDERQ_DB": pg_demo_url}
    procs = [subprocess.Popen([str(exe), "claim", "--user", u, "--count", "40", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for u in ["alice", "bob", "dana"] * 2]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    numbers = [row["number"] for o in outs for row in json_lines(o[0])]
    assert len(numbers) == len(set(numbers)) == queued
    check = run_cli("check", env={"ORDERQ_DB": pg_demo_url})
    assert check.returncode == 0, check.stdout  # incl. the hash chain: ids were given out in commit order


def test_a_user_disabled_while_their_session_lives_is_refused_a_claim_and_the_refusal_is_logged(
        pg_demo_url: str, desk_for) -> None:  # noqa: ANN001
    # the claim is sent to the server in one message (db/pg/claim.py): the user's check is inside it
    bob = desk_for(pg_demo_url, "bob")
    held = bob.orders.claim_next()
    desk_for(pg_demo_url, None).users.disable("bob")
    with pytest.raises(PermissionDenied, match="'bob' is disabled"):
        bob.orders.claim_next()
    conn = desk_for(pg_demo_url, None).store.conn
    assert conn.execute("SELECT COUNT(*) FROM orders WHERE claimed_by = 'bob'").fetchone()[0] == 0
    assert [r[0] for r in conn.execute("SELECT action FROM events WHERE actor = 'bob' ORDER BY id")][-2:] == \
        ["claim", "refused"]
    assert held is not None and all(r.ok for r in run_checks(conn))


def test_claim_next_returns_a_lapsed_lease_first_as_sqlite_does(pg_demo_url: str, demo_db: Path, desk_for,
                                                                 clock) -> None:  # noqa: ANN001
    # a queue with a lapsed lease is claimed the long way (reap, then claim): the lapsed item first
    got = {}
    for name, db in (("pg", pg_demo_url), ("lite", demo_db)):
        alice, bob = desk_for(db, "alice"), desk_for(db, "bob")
        first = alice.orders.claim_next()
        clock.advance(minutes=11)
        again = bob.orders.claim_next()
        got[name] = (first.number, again.number, [e.action for e in bob.orders.history(first.number)][-2:])
        clock.advance(minutes=-11)
    assert got["pg"] == got["lite"]
    assert got["pg"][0] == got["pg"][1] and got["pg"][2] == ["lease_expired", "claim"]


def test_each_claim_is_one_event_in_the_hash_chain_and_one_notify(pg_demo_url: str, desk_for) -> None:  # noqa: ANN001
    import psycopg

    listener = psycopg.connect(pg_demo_url, autocommit=True)
    listener.execute("LISTEN orderq_events")
    alice = desk_for(pg_demo_url, "alice")
    conn = alice.store.conn
    before = conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
    got = [alice.orders.claim_next() for _ in range(3)]
    heard = [n.payload for n in listener.notifies(timeout=2, stop_after=3)]
    listener.close()
    written = conn.execute("SELECT id, action, ref FROM events WHERE id > ? ORDER BY id", (before,)).fetchall()
    assert [(a, r) for _, a, r in written] == [("claim", g.number) for g in got] and len({g.number for g in got}) == 3
    assert heard == [str(i) for i, _, _ in written]
    assert all(r.ok for r in run_checks(conn))


def test_a_claims_message_carries_its_values_exactly_as_psycopg_would_quote_them(pg_url: str) -> None:
    # the claim's one message writes its parameters in as literals (db/pg/literals.py): the same text
    # psycopg's ClientCursor makes, for awkward text (quotes, backslashes, %, non-ASCII), numbers and NULL
    import psycopg

    from db.pg.literals import bind
    from db.store import Store

    raw = Store.open(pg_url).conn.raw
    args = {"a": "O'Brien \\ 100% ü", "b": -3, "c": 1712345678.25, "d": None, "e": -0.0, "f": float("inf"),
            "g": 10**20, "h": True, "i": "%(a)s", "j": ""}
    message = "SELECT " + ", ".join(f"%({k})s" for k in args) + ", '50%%'"
    sent = bind(raw, message, args)
    assert sent == psycopg.ClientCursor(raw).mogrify(message, args).encode()
    assert raw.execute(sent, prepare=False).fetchone()[0] == "O'Brien \\ 100% ü"


def test_a_rep_whose_queue_filter_has_an_apostrophe_claims_within_it(pg_demo_url: str, desk_for) -> None:  # noqa: ANN001
    from db.orders_read import QueueFilter

    alice = desk_for(pg_demo_url, "alice")
    c = alice.store.conn
    name = c.execute("SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
                     "WHERE o.state = 'queued' ORDER BY o.id LIMIT 1").fetchone()[0]
    c.execute("UPDATE customers SET name = ? WHERE name = ?", (name + " O'Brien", name))
    got = alice.orders.claim_next(QueueFilter(search="o'brien"))
    assert got is not None and "O'Brien" in c.execute(
        "SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.number = ?",
        (got.number,)).fetchone()[0]
    assert alice.orders.claim_next(QueueFilter(search="nobody's name")) is None


def test_claims_behind_a_transaction_pooler_prepare_nothing_and_chain_their_events(
        pg_demo_url: str, desk_for, monkeypatch) -> None:  # noqa: ANN001
    # poll-only is the setting for pgbouncer in transaction mode, where a PREPAREd statement may be
    # on another server session: there the claim statement is sent whole, every time
    monkeypatch.setenv("ORDERQ_FEED", "poll")
    alice = desk_for(pg_demo_url, "alice")
    got = [alice.orders.claim_next() for _ in range(3)]
    conn = alice.store.conn
    assert len({g.number for g in got}) == 3
    assert conn.execute("SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'orderq_claim%'").fetchone()[0] == 0
    assert [r[0] for r in conn.execute("SELECT ref FROM events WHERE action = 'claim' ORDER BY id DESC LIMIT 3")] == \
        [g.number for g in reversed(got)]
    assert all(r.ok for r in run_checks(conn))
