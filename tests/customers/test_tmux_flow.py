"""Done-when, in a real terminal with the keyboard alone: a phone order for a customer with two addresses,
the second ship-to picked with F4, a PO, three lines; the checklist ticked (it shows the address it confirms)
and the order released; the pick ticket names that address. Another rep's order took the third line's stock
meanwhile, so release leaves it on backorder: the rep ships the two lines in hand (`s`, Enter), the supervisor
books the stock received (`k`, Enter, Enter, prefilled with the short line), the rep's screen shows the line
ready to ship, live, and `s`, Enter ships it: the order ends shipped, and `check` holds."""
from __future__ import annotations

import json
import re
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from db.service import Desk
from db.service.orders import LineInput
from db.store import Store
from tests.conftest import REPO, connect_db
from tests.customers.conftest import add_addresses
from tests.helpers import Tmux
from tests.shipping.conftest import work_and_release

pytestmark = pytest.mark.tmux

FIRST = "BEV-0001"


def _start(tmux: Tmux, session: str, *args: str) -> None:
    cmd = f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m tests.tui_order.run_host {' '.join(args)}"
    tmux.new(session, cmd, cols=130, rows=40)


def _pick_skus(db: Path) -> tuple[str, str, int]:
    """Two products in stock that no order is waiting for (received stock would go to it first): the second
    line's, and the third's with its stock (the cheapest shelf, so a competing order is within credit)."""
    c = connect_db(db)
    waiting = {r[0] for r in c.execute(
        "SELECT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.qty_allocated < l.qty"
        " AND (o.state IN ('released','backordered') OR (o.state = 'on_hold' AND o.hold_reason = 'stock'))")}
    rows = [(sku, stock) for sku, stock in c.execute(
        "SELECT sku, stock FROM products WHERE active = 1 AND stock >= 2 AND sku != ?"
        " ORDER BY price_e4 * stock, sku", (FIRST,)) if sku not in waiting]
    c.close()
    (short, stock), (second, _) = rows[0], rows[1]
    return second, short, stock


def _take_the_stock(db: Path, sku: str, units: int) -> str:
    """Another rep (bob) enters and releases an order that takes every unit of `sku` left on the shelf."""
    c = connect_db(db)
    price = Decimal(c.execute("SELECT price_e4 FROM products WHERE sku = ?", (sku,)).fetchone()[0]) / 10000
    need = int(price * units * 2 * 100)
    code = c.execute("SELECT code FROM customers WHERE po_required = 0 AND ship_complete = 0 AND code != 'C00006'"
                     " AND credit_limit_cents - open_balance_cents > ? ORDER BY code LIMIT 1", (need,)).fetchone()[0]
    c.close()
    store = Store.open(db)
    try:
        bob = Desk.for_user(store, "bob")
        number = bob.orders.create(customer=code, channel="phone", type="standard", lines=[LineInput(sku, units)]).number
        work_and_release(bob, number)
        assert bob.orders.get(number).lines[0].qty_allocated == units
    finally:
        store.close()
    return number


def test_phone_order_second_ship_to_po_release_ship_in_part_receive_ship_the_rest(demo_db, cli, tmux: Tmux) -> None:  # noqa: ANN001
    add_addresses(demo_db)
    second, short, stock = _pick_skus(demo_db)
    entry, work, sup = (f"{n}-{uuid.uuid4().hex[:8]}" for n in ("entry", "work", "sup"))
    try:
        _start(tmux, entry, str(demo_db), "alice", "entry")
        tmux.wait_screen(entry, "New order")
        tmux.send(entry, "6", "Enter")
        tmux.wait_screen(entry, "1 of 2: Main warehouse")
        tmux.send(entry, "F4")
        tmux.wait_screen(entry, "3 of 3  ·")  # the two ship-tos and "a new address, for this order only"
        tmux.send(entry, "Down", "Enter")
        tmux.wait_screen(entry, "2 of 2: Dock 9")
        tmux.send(entry, "Enter", "PO-DONE-1", "Enter")
        for sku in (FIRST, second, short):
            tmux.send(entry, sku, "Enter", "1", "Enter", "Enter")
        tmux.wait_screen(entry, "3 lines")
        tmux.send(entry, "Enter")
        pane = tmux.wait_screen(entry, "created for C00006")
        number = re.search(r"(SO-\d+) created for", pane).group(1)  # the form also lists earlier orders
        assert "Dock 9" in pane and "PO PO-DONE-1" in pane

        _take_the_stock(demo_db, short, stock)  # meanwhile: the third line's stock goes to another order

        _start(tmux, work, str(demo_db), "alice", "order", number)
        tmux.wait_screen(work, "Not claimed")
        pane = tmux.wait_screen(work, "→ Dock 9, 9 Dock Rd")  # under "confirm ship-to"
        assert "Ship to Dock 9, 9 Dock Rd, Gate B, 07101 Newark, NJ, USA" in pane and "PO PO-DONE-1" in pane
        tmux.send(work, "c")
        tmux.wait_screen(work, "Claimed by you")
        tmux.send(work, "1", "2", "3")
        tmux.wait_screen(work, "Ready to release")
        tmux.send(work, "r")
        pane = tmux.wait_screen(work, f"BACKORDER waiting for stock: line 3 {short} ×1 · 2 units in hand")
        assert " released " in pane  # the header names the state in words
        pick = cli("--db", str(demo_db), "order", "pick-ticket", number, check=True).stdout
        assert "Dock 9" in pick and "9 Dock Rd" in pick and "07101 Newark, NJ" in pick

        tmux.send(work, "s")  # ship: each line starts at what is in hand (the third: 0)
        tmux.wait_screen(work, f"Ship {number}")
        tmux.send(work, "Enter")
        pane = tmux.wait_screen(work, f"{number}: shipped line 1 ×1, line 2 ×1")
        assert " backordered " in pane

        _start(tmux, sup, str(demo_db), "sam", "order", number)
        tmux.wait_screen(sup, "BACKORDER")
        tmux.send(sup, "k")  # receive stock: the short line's SKU and shortage, prefilled
        tmux.wait_screen(sup, "SKU  (F4 lists them)")  # the form (the footer names the key "Receive stock" too)
        tmux.send(sup, "Enter", "Enter")
        tmux.wait_screen(sup, f"1 × {short} received")
        tmux.wait_screen(work, "READY TO SHIP 1 unit in hand")  # live on the rep's screen

        tmux.send(work, "s")
        tmux.wait_screen(work, f"Ship {number}")
        tmux.send(work, "Enter")
        pane = tmux.wait_screen(work, f"{number}: shipped line 3 ×1")
        assert " shipped " in pane
    finally:
        tmux.close()
    shown = json.loads(cli("--db", str(demo_db), "order", "show", number, "--json", check=True).stdout)
    assert shown["state"] == "shipped" and shown["po_number"] == "PO-DONE-1" and shown["ship_to"]["name"] == "Dock 9"
    assert [ln["qty_shipped"] for ln in shown["lines"]] == [1, 1, 1]
    checked = cli("--db", str(demo_db), "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
