"""Partial shipments and backorders end to end: real `orderq` processes on a real WAL file.

The story (issue 13 "Done when"): an order ships 2 of its 3 lines; stock for the third line comes
in, goes first to the order due earliest, and then lets the backorder ship.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from db.service import Desk
from db.service.orders import LineInput
from tests.conftest import FakeClock, json_lines
from tests.shipping.conftest import raw, work_and_release

THREE = [LineInput("A-1", 2), LineInput("B-1", 3), LineInput("Z-1", 4)]


def _show(cli, db: Path, number: str) -> dict:  # noqa: ANN001
    return json_lines(cli("--db", str(db), "order", "show", number, "--json", check=True).stdout)[0]


def _events(db: Path) -> int:
    return raw(db).execute("SELECT MAX(id) FROM events").fetchone()[0]


def test_ship_two_of_three_lines_then_stock_received_goes_earliest_due_first(sdb: Path, clock: FakeClock,
                                                                          desk_for, cli) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    early = alice.orders.create(customer="C1", channel="phone", type="standard", lines=[LineInput("Z-1", 3)],
                                received_at=clock.t - timedelta(hours=2)).number  # due first: waits on a stock hold
    order = alice.orders.create(customer="C1", channel="phone", type="standard", lines=THREE).number
    assert alice.orders.get(early).hold_reason.value == "stock"
    work_and_release(alice, order)
    released = _show(cli, sdb, order)
    assert released["state"] == "released"
    assert [ln["qty_backordered"] for ln in released["lines"]] == [0, 0, 4], "no kettles: line 3 is a backorder"

    db = str(sdb)
    shipped = cli("--db", db, "ship", order, "--line", "1:2", "--line", "2:3", "--user", "alice")
    assert shipped.returncode == 0, shipped.stderr
    assert "backordered: line 3 4" in shipped.stdout
    part = _show(cli, sdb, order)
    assert part["state"] == "backordered"
    assert [ln["qty_shipped"] for ln in part["lines"]] == [2, 3, 0]

    # 4 kettles: the order due first (3, on a stock hold) takes its 3 and goes back to the queue; ours gets 1
    got = json_lines(cli("--db", db, "stock", "receive", "Z-1", "4", "--user", "sam", "--json", check=True).stdout)[0]
    assert [(s["order"], s["lines"], s["freed"]) for s in got["served"]] == [(early, {"1": 3}, True), (order, {"3": 1}, False)]
    assert _show(cli, sdb, early)["state"] == "queued" and _show(cli, sdb, early)["hold_reason"] is None
    assert _show(cli, sdb, order)["lines"][2]["qty_backordered"] == 3
    refused = cli("--db", db, "ship", order, "--user", "alice")
    assert refused.returncode == 2 and "line 3" in refused.stderr and "backorder" in refused.stderr

    cli("--db", db, "stock", "receive", "Z-1", "3", "--user", "sam", check=True)
    assert got["stock"] == 0
    done = cli("--db", db, "ship", order, "--user", "alice")
    assert done.returncode == 0, done.stderr
    final = _show(cli, sdb, order)
    assert final["state"] == "shipped" and [ln["qty_shipped"] for ln in final["lines"]] == [2, 3, 4]
    assert cli("--db", db, "check").returncode == 0, cli("--db", db, "check").stdout


def test_shipping_more_than_is_left_is_refused_naming_the_line(sdb: Path, desk_for, cli) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    order = alice.orders.create(customer="C1", channel="phone", type="standard",
                                lines=[LineInput("A-1", 2), LineInput("B-1", 3)]).number
    work_and_release(alice, order)
    alice.orders.ship(order, {2: 1})
    before = _events(sdb)
    over = cli("--db", str(sdb), "ship", order, "--line", "2:3", "--user", "alice")
    assert over.returncode == 2
    assert over.stderr.count("\n") == 1 and "line 2" in over.stderr and "only 2 of 3 are left" in over.stderr
    assert cli("--db", str(sdb), "ship", order, "--line", "9:1", "--user", "alice").returncode == 2
    assert cli("--db", str(sdb), "ship", order, "--line", "2:x", "--user", "alice").returncode == 2
    assert _events(sdb) == before, "nothing written"
    assert [ln["qty_shipped"] for ln in _show(cli, sdb, order)["lines"]] == [0, 1]


def test_ship_complete_customer_waits_for_all_its_stock(sdb: Path, clock: FakeClock, desk_for, cli) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    whole = alice.orders.create(customer="C2", channel="phone", type="standard",
                                lines=[LineInput("A-1", 2), LineInput("B-1", 3)]).number
    work_and_release(alice, whole)
    part = cli("--db", str(sdb), "ship", whole, "--line", "1:2", "--user", "alice")
    assert part.returncode == 2 and "complete shipments only" in part.stderr
    assert _show(cli, sdb, whole)["state"] == "released"
    # short of stock, it cannot be released into a backorder: it waits on a stock hold
    short = alice.orders.create(customer="C2", channel="phone", type="standard", lines=THREE).number
    alice.orders.unhold(short, "try anyway")
    got = alice.orders.claim(short)
    for step in alice.orders.get(short).checklist:
        alice.orders.tick(short, step, token=got.claim_token)
    release = cli("--db", str(sdb), "--now", clock.t.isoformat(), "release", short, "--token", got.claim_token,
                  "--user", "alice")
    assert release.returncode == 2 and "complete shipments only" in release.stderr
    assert cli("--db", str(sdb), "ship", whole, "--user", "alice").returncode == 0
    assert cli("--db", str(sdb), "check").returncode == 0


def test_a_return_takes_back_only_what_shipped(sdb: Path, desk_for) -> None:  # noqa: ANN001
    import pytest

    from core.errors import OrderqError
    from db.service.returns import ReturnLineInput

    alice, carol = desk_for(sdb, "alice"), desk_for(sdb, "carol")
    order = alice.orders.create(customer="C1", channel="phone", type="standard",
                                lines=[LineInput("A-1", 5), LineInput("B-1", 3)]).number
    work_and_release(alice, order)
    alice.orders.ship(order, {1: 2})
    assert [ln["returnable"] for ln in carol.returns.returnable(order)] == [2, 0]
    with pytest.raises(OrderqError):
        carol.returns.new(lines=[ReturnLineInput("A-1", 3, "damaged")], resolution="refund", orders=[order])
    with pytest.raises(OrderqError):
        carol.returns.new(lines=[ReturnLineInput("B-1", 1, "damaged")], resolution="refund", orders=[order])
    got = carol.returns.new(lines=[ReturnLineInput("A-1", 2, "damaged")], resolution="refund", orders=[order])
    assert got["number"].startswith("RMA")


def test_cancelling_a_backorder_cancels_the_rest_and_puts_its_stock_back(sdb: Path, desk_for, cli) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    order = alice.orders.create(customer="C1", channel="phone", type="standard",
                                lines=[LineInput("A-1", 5), LineInput("B-1", 3)]).number
    work_and_release(alice, order)  # takes 5 mugs and 3 towels off the shelf
    alice.orders.ship(order, {1: 2})
    alice.orders.cancel(order, "customer no longer needs the rest")
    stock = dict(raw(sdb).execute("SELECT sku, stock FROM products WHERE sku IN ('A-1','B-1')").fetchall())
    assert stock == {"A-1": 98, "B-1": 100}, "what did not ship is back on the shelf"
    o = _show(cli, sdb, order)
    assert o["state"] == "cancelled" and [ln["qty_shipped"] for ln in o["lines"]] == [2, 0]
    assert [ln["returnable"] for ln in desk_for(sdb, "carol").returns.returnable(order)] == [2, 0]
    assert cli("--db", str(sdb), "check").returncode == 0


def test_check_catches_shipped_over_ordered_and_stock_off_its_events(sdb: Path, desk_for, cli) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    order = alice.orders.create(customer="C1", channel="phone", type="standard", lines=[LineInput("A-1", 2)]).number
    work_and_release(alice, order)
    alice.orders.ship(order)
    assert cli("--db", str(sdb), "check").returncode == 0
    c = raw(sdb)
    c.execute("UPDATE order_lines SET qty_shipped = qty + 1 WHERE sku = 'A-1'")
    c.execute("UPDATE products SET stock = stock + 5 WHERE sku = 'B-1'")
    proc = cli("--db", str(sdb), "check")
    assert proc.returncode == 1
    assert "line 1: 3 shipped, 2 set aside, of 2 ordered" in proc.stdout
    assert "product B-1: stock 105 but the log moves 100" in proc.stdout


def test_stock_receive_is_a_supervisors_and_refuses_bad_input(sdb: Path, cli) -> None:  # noqa: ANN001
    before = _events(sdb)
    for args, why in (((("Z-1", "3", "--user", "alice")), "Only supervisors can book stock received for Z-1; alice is a rep."), (("NOPE", "3", "--user", "sam"), "unknown SKU"),
                      (("Z-1", "0", "--user", "sam"), "quantity"), (("Z-1", "2.5", "--user", "sam"), "whole number")):
        proc = cli("--db", str(sdb), "stock", "receive", *args)
        assert proc.returncode == 2 and why in proc.stderr, proc.stderr
    assert raw(sdb).execute("SELECT COUNT(*) FROM events WHERE id > ? AND action != 'refused'", (before,)).fetchone()[0] == 0
