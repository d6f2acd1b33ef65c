"""The store on a real WAL file: append-only log, one transaction per command, check catches breakage."""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import DomainError, PermissionDenied, ValidationError
from db import dbapi
from db.check import run_checks
from db.service.orders import LineInput
from tests.conftest import connect_db


def _conn(p: Path) -> dbapi.Connection:
    """A raw session in autocommit mode, rows by name, on either backend."""
    if not isinstance(p, Path):
        return connect_db(p)
    c = sqlite3.connect(p, isolation_level=None)
    c.row_factory = sqlite3.Row
    return c


@pytest.mark.sqlite_only("SQLite's journal mode")
def test_database_is_wal(demo_db: Path) -> None:
    assert _conn(demo_db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_event_log_refuses_update_and_delete(demo_db: Path) -> None:
    c = _conn(demo_db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        c.execute("UPDATE events SET actor = 'mallory' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        c.execute("DELETE FROM events WHERE id = 1")
    assert c.execute("SELECT actor FROM events WHERE id = 1").fetchone()[0] != "mallory"


def test_check_passes_then_names_each_broken_invariant(demo_db: Path, cli) -> None:
    assert cli("--db", str(demo_db), "check").returncode == 0
    c = _conn(demo_db)
    c.execute("UPDATE products SET stock = -3 WHERE sku = (SELECT MIN(sku) FROM products)")
    c.execute("UPDATE orders SET state = 'released' WHERE id = (SELECT MIN(id) FROM orders WHERE state = 'queued')")
    c.execute("UPDATE orders SET total_cents = total_cents + 1 WHERE id = (SELECT MAX(id) FROM orders)")
    proc = cli("--db", str(demo_db), "check")
    assert proc.returncode == 1
    assert "stock is negative" in proc.stdout
    assert "state is released but its events say queued" in proc.stdout
    assert "lines and charges sum to" in proc.stdout


def test_refused_command_writes_nothing(demo_db: Path, desk_for) -> None:
    alice = desk_for(demo_db, "alice")
    before = alice.store.conn.execute("SELECT COUNT(*), (SELECT MAX(id) FROM events) FROM orders").fetchone()
    item = alice.orders.claim_next()
    mid = alice.store.conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
    with pytest.raises(DomainError, match="checklist incomplete"):
        alice.orders.release(item.number, token=item.claim_token)
    with pytest.raises(ValidationError, match="quantity"):
        alice.orders.create(customer="C00001", channel="phone", type="standard", lines=[LineInput("BEV-0001", "-2")])
    assert alice.store.conn.execute("SELECT MAX(id) FROM events").fetchone()[0] == mid
    assert alice.store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == before[0]


def test_full_rep_flow_claim_tick_release_ship(demo_db: Path, desk_for) -> None:
    alice = desk_for(demo_db, "alice")
    item = alice.orders.claim_next()
    o = alice.orders.get(item.number)
    stock_before = {ln.sku: alice.store.conn.execute("SELECT stock FROM products WHERE sku=?", (ln.sku,)).fetchone()[0]
                    for ln in o.lines}
    for step in o.checklist:
        alice.orders.tick(item.number, step, token=item.claim_token)
    alice.orders.release(item.number, token=item.claim_token)
    o = alice.orders.get(item.number)
    assert o.state.value == "released" and o.claimed_by is None
    for ln in o.lines:
        now = alice.store.conn.execute("SELECT stock FROM products WHERE sku=?", (ln.sku,)).fetchone()[0]
        assert now == stock_before[ln.sku] - sum(x.qty for x in o.lines if x.sku == ln.sku)
    alice.orders.ship(item.number)
    assert alice.orders.get(item.number).state.value == "shipped"
    with pytest.raises(DomainError, match="this order is shipped; only an order that is .* can be cancelled"):
        alice.orders.cancel(item.number, "too late")
    assert all(r.ok for r in run_checks(alice.store.conn))


def test_customer_wait_hold_pauses_the_sla(demo_db: Path, desk_for, clock) -> None:
    alice = desk_for(demo_db, "alice")
    item = alice.orders.claim_next()
    due = alice.orders.get(item.number).due_at
    alice.orders.hold(item.number, "customer_info", "need the PO number", token=item.claim_token)
    held_at = alice.store.now()
    clock.advance(minutes=45)
    alice.orders.unhold(item.number, "PO received")
    o = alice.orders.get(item.number)
    assert o.state.value == "queued"
    # the SLA counts desk hours: the deadline moves on by the open time the hold lasted, which may
    # carry it over a closed night when it falls near closing time
    cal = alice.store.calendar
    paused = cal.open_time_between(held_at, alice.store.now())
    assert paused.total_seconds() > 0 or not cal.is_open(held_at.timestamp())
    assert cal.open_time_between(due, o.due_at) == paused
    # a pricing hold does not pause it
    item2 = alice.orders.claim(item.number)
    alice.orders.hold(item.number, "pricing", "check list price", token=item2.claim_token)
    clock.advance(minutes=30)
    alice.orders.unhold(item.number, "price confirmed")
    assert alice.orders.get(item.number).due_at == o.due_at


def test_credit_hold_is_automatic_and_only_a_supervisor_lifts_it(demo_db: Path, desk_for) -> None:
    c = _conn(demo_db)
    c.execute("UPDATE customers SET credit_limit_cents = 10000, open_balance_cents = 9000 WHERE code = 'C00001'")
    alice = desk_for(demo_db, "alice")
    o = alice.orders.create(customer="C00001", channel="phone", type="standard",
                            lines=[LineInput("BEV-0001", "20")])
    assert o.state.value == "on_hold" and o.hold_reason.value == "credit"
    assert "exceeds credit limit 100.00" in o.hold_note
    with pytest.raises(PermissionDenied):
        alice.orders.unhold(o.number, "customer paid")
    sam = desk_for(demo_db, "sam")
    sam.orders.unhold(o.number, "customer paid by card")
    assert sam.orders.get(o.number).state.value == "queued"
    refused = c.execute("SELECT actor, data FROM events WHERE action = 'refused' ORDER BY id DESC").fetchone()
    assert refused["actor"] == "alice" and "lift_credit_hold" in refused["data"]


def test_clean_online_order_goes_straight_through(demo_db: Path, desk_for) -> None:
    alice = desk_for(demo_db, "alice")
    sku = alice.store.conn.execute("SELECT sku FROM products WHERE active = 1 AND stock > 100 LIMIT 1").fetchone()[0]
    cust = alice.store.conn.execute("SELECT code FROM customers WHERE open_balance_cents = 0 LIMIT 1").fetchone()[0]
    o = alice.orders.create(customer=cust, channel="online", type="standard", lines=[LineInput(sku, "2")])
    assert o.state.value == "released" and o.straight_through
    rush = alice.orders.create(customer=cust, channel="online", type="rush", lines=[LineInput(sku, "2")])
    assert rush.state.value == "queued" and rush.queue_reason == "type rush needs a rep"
    assert all(r.ok for r in run_checks(alice.store.conn))


def test_money_is_exact(demo_db: Path, desk_for) -> None:
    c = _conn(demo_db)
    c.execute("UPDATE products SET price_e4 = 10 WHERE sku = 'BEV-0001'")  # 0.001
    alice = desk_for(demo_db, "alice")
    o = alice.orders.create(customer="C00002", channel="phone", type="standard",
                            lines=[LineInput("BEV-0001", "1005"), LineInput("BEV-0002", "3", "12.5")])
    assert o.lines[0].amount == Decimal("1.00")  # 1.005 rounds half-even
    assert o.total == sum(ln.amount for ln in o.lines)


def test_rep_cannot_override_and_the_refusal_is_logged(demo_db: Path, desk_for) -> None:
    alice = desk_for(demo_db, "alice")
    number = alice.store.conn.execute("SELECT number FROM orders WHERE state='queued' LIMIT 1").fetchone()[0]
    with pytest.raises(PermissionDenied, match="Only supervisors can override the class or due time of"):
        alice.orders.override(number, reason="vip", priority="P1")
    sam = desk_for(demo_db, "sam")
    sam.orders.override(number, reason="customer escalated", priority="P1")
    o = sam.orders.get(number)
    assert o.priority.value == "P1" and "customer escalated" in o.priority_source
