"""The demo desk carries what a real desk's orders carry (issue 13 item 7): customers with addresses
(some with two ship-tos), contacts, PO-required and ship-complete customers; orders with ship-to
snapshots, PO numbers and shipping methods; a few orders shipped in part whose remaining line is short
of stock, which `stock receive` lets ship. The same seed and clock give the same desk."""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from db import demo
from db.store import Store
from tests.conftest import connect_db, json_lines, run_cli


def _rows(db: Path, sql: str) -> list[sqlite3.Row]:
    c = connect_db(db)
    c.row_factory = sqlite3.Row
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def test_customers_have_addresses_contacts_and_order_rules(demo_db: Path) -> None:
    book = _rows(demo_db, """SELECT c.code, c.po_required, c.ship_complete,
        (SELECT COUNT(*) FROM customer_addresses a WHERE a.customer_id = c.id AND a.kind = 'ship_to') AS ships,
        (SELECT COUNT(*) FROM customer_addresses a WHERE a.customer_id = c.id AND a.kind = 'bill_to' AND a.is_default = 1) AS bills,
        (SELECT COUNT(*) FROM customer_contacts k WHERE k.customer_id = c.id) AS contacts FROM customers c""")
    assert book and all(r["ships"] >= 1 and r["bills"] == 1 and r["contacts"] >= 1 for r in book)
    assert any(r["ships"] == 2 for r in book), "F4 on the ship-to should have a customer with a choice"
    assert any(r["po_required"] for r in book) and any(r["ship_complete"] for r in book)
    two = next(r["code"] for r in book if r["ships"] == 2)
    shown = json.loads(run_cli("--db", str(demo_db), "customers", "show", two, "--json", check=True).stdout)
    assert len([a for a in shown["addresses"] if a["kind"] == "ship_to"]) == 2 and shown["contacts"][0]["email"]


def test_orders_carry_ship_to_snapshots_po_numbers_and_ship_methods(demo_db: Path) -> None:
    orders = _rows(demo_db, """SELECT o.number, o.ship_to, o.ship_to_address_id, o.po_number, o.ship_method,
        o.contact, c.po_required, a.name, a.city, a.country, a.customer_id = o.customer_id AS own
        FROM orders o JOIN customers c ON c.id = o.customer_id
        LEFT JOIN customer_addresses a ON a.id = o.ship_to_address_id""")
    assert all(r["own"] and json.loads(r["ship_to"])["city"] == r["city"] for r in orders)
    assert all(r["po_number"] for r in orders if r["po_required"]), "a PO-required customer's order has its PO"
    assert 0.2 < sum(1 for r in orders if r["po_number"]) / len(orders) < 0.9
    assert {r["ship_method"] for r in orders} >= {"ground", "express"} and all(r["contact"] for r in orders)
    pos = [r["po_number"] for r in orders if r["po_number"]]
    assert len(pos) == len(set(pos)), "the demo sends no duplicate POs"
    shown = json.loads(run_cli("--db", str(demo_db), "order", "show", orders[0]["number"], "--json",
                               check=True).stdout)
    assert shown["ship_to"]["name"] == orders[0]["name"] and shown["ship_method"] == orders[0]["ship_method"]


def test_backordered_orders_wait_for_stock_and_ship_when_it_comes(demo_db: Path) -> None:
    db = ("--db", str(demo_db))
    waiting = json_lines(run_cli(*db, "order", "list", "--state", "backordered", "--json", check=True).stdout)
    assert waiting, "the demo has orders shipped in part"
    number = waiting[0]["number"]
    o = json.loads(run_cli(*db, "order", "show", number, "--json", check=True).stdout)
    short = [ln for ln in o["lines"] if ln["qty_shipped"] < ln["qty"]]
    assert short and any(ln["qty_shipped"] == ln["qty"] for ln in o["lines"])  # some lines shipped whole
    stock = {p["sku"]: p["stock"] for p in _rows(demo_db, "SELECT sku, stock FROM products")}
    assert all(stock[ln["sku"]] < ln["qty"] - ln["qty_shipped"] for ln in short), "its remaining line is short"
    assert run_cli(*db, "ship", number, "--user", "alice").returncode == 2  # nothing to ship until stock comes
    for ln in short:
        run_cli(*db, "stock", "receive", ln["sku"], "100000", "--user", "sam", check=True)
    run_cli(*db, "ship", number, "--user", "alice", check=True)
    assert json.loads(run_cli(*db, "order", "show", number, "--json", check=True).stdout)["state"] == "shipped"
    assert run_cli(*db, "check").returncode == 0


def test_same_seed_and_clock_give_the_same_book_and_headers(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 10, 17, tzinfo=UTC)
    got = []
    for i in range(2):
        store = Store.open(tmp_path / f"d{i}.db", create=True, clock=lambda: now)
        try:
            demo.generate(store, orders=300, seed=4)
            got.append([tuple(r) for r in store.conn.execute(
                "SELECT number, state, ship_to, bill_to, contact, po_number, requested_date, ship_method FROM orders"
                " UNION ALL SELECT customer_id, kind, name, street, city, postcode, country, is_default"
                " FROM customer_addresses")])
        finally:
            store.close()
    assert got[0] == got[1]
