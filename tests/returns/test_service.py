"""ReturnService on a real WAL database: state, stock, money and events agree, and `orderq check` holds."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from core.errors import ClaimLost, DomainError, PermissionDenied, ValidationError
from db.check import run_checks
from db.convert import dt
from db.service import Desk
from db.service.returns import ReturnLineInput
from tests.returns.conftest import shipped_line
from tests.conftest import connect_db


def checks_pass(desk: Desk) -> None:
    bad = [(r.name, r.problems[:3]) for r in run_checks(desk.store.conn) if not r.ok]
    assert not bad, bad


def q(path: Path, sql: str, *args: object) -> list[tuple]:
    c = connect_db(path)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def walk(desk: Desk, number: str, *, received: dict | None = None, grade: tuple[str, str] = ("like_new", "restock")) -> dict:
    desk.returns.authorize(number)
    desk.returns.receive(number, received)
    desk.returns.inspect(number, default=grade)
    return desk.returns.resolve(number)


def test_every_demo_state_and_check(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    desk = desk_for(rdb, "carol")
    states = {r["state"] for r in desk.returns.list()}
    assert states == {"requested", "pending_approval", "authorized", "received", "inspected", "resolved", "closed",
                      "rejected"}
    checks_pass(desk)


def test_exchange_creates_linked_p2_order(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb, min_left=1)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="wrong_item")], resolution="exchange",
                          orders=[ln["number"]])
    d = walk(carol, d["number"])
    assert d["state"] == "resolved" and d["exchange_order"]
    order = carol.orders.get(d["exchange_order"])
    assert order.priority.value == "P2" and "exchange for " + d["number"] in order.priority_source
    assert order.state.value in ("queued", "on_hold")
    assert [(x.sku, x.qty, x.amount) for x in order.lines] == [(ln["sku"], 1, 0)]
    assert q(rdb, "SELECT exchange_for_return_id FROM orders WHERE number = ?", order.number)[0][0] == d["id"]
    # the SLA counts the desk's open hours (an exchange made late in the day is due the next morning)
    assert order.due_at == carol.store.calendar.add_open_time(carol.now(), carol.ctx.rules.sla(order.priority))
    checks_pass(carol)


def test_restock_changes_stock_scrap_does_not(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    a = shipped_line(rdb, min_left=2)
    b = shipped_line(rdb, min_left=1, exclude=(a["number"],))
    carol = desk_for(rdb, "carol")
    stock = lambda sku: q(rdb, "SELECT stock FROM products WHERE sku = ?", sku)[0][0]  # noqa: E731
    before_a, before_b = stock(a["sku"]), stock(b["sku"])
    ra = carol.returns.new(lines=[ReturnLineInput(sku=a["sku"], qty=2, reason="damaged")], resolution="refund",
                           orders=[a["number"]])["number"]
    rb = carol.returns.new(lines=[ReturnLineInput(sku=b["sku"], qty=1, reason="defective")], resolution="refund",
                           orders=[b["number"]])["number"]
    walk(carol, ra, grade=("like_new", "restock"))
    walk(carol, rb, grade=("defective", "scrap"))
    assert stock(a["sku"]) == before_a + 2
    if a["sku"] != b["sku"]:
        assert stock(b["sku"]) == before_b
    ev = [e for e in carol.returns.history(ra) if e.action == "inspect"][0]
    assert ev.data["stock"] == {a["sku"]: 2}
    checks_pass(carol)


def test_threshold_needs_another_supervisor(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb, min_left=1, min_amount_cents=60_000)
    desk_for(rdb, "admin").users.add("sue", "supervisor")
    sam = desk_for(rdb, "sam")
    left = ln["qty"] - ln["qty_returned"]
    d = sam.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=left, reason="defective")], resolution="refund",
                        orders=[ln["number"]])
    assert d["state"] == "pending_approval" and "exceeds the approval threshold" in d["needs_approval"]
    with pytest.raises(DomainError):
        sam.returns.authorize(d["number"])  # a clerk's authorize does not skip approval
    with pytest.raises(PermissionDenied, match="may not approve"):
        sam.returns.approve(d["number"])  # the requester never approves
    with pytest.raises(PermissionDenied):
        desk_for(rdb, "carol").returns.approve(d["number"])  # a clerk never approves
    got = desk_for(rdb, "sue").returns.approve(d["number"])
    assert got["state"] == "authorized" and got["approved_by"] == "sue"
    refused = q(rdb, "SELECT actor, data FROM events WHERE entity = 'permission' AND ref = ?", d["number"])
    assert {a for a, _ in refused} == {"sam", "carol"}
    checks_pass(sam)


def test_outside_window_goes_to_approval(rdb: Path, desk_for: Callable[..., Desk], clock) -> None:  # noqa: ANN001
    ln = shipped_line(rdb, min_left=1)
    shipped = dt(q(rdb, "SELECT shipped_at FROM orders WHERE number = ?", ln["number"])[0][0])
    clock.t = shipped + timedelta(days=31)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="no_longer_needed")],
                          resolution="store_credit", orders=[ln["number"]])
    assert d["state"] == "pending_approval"
    assert f"{ln['number']} is outside the return window by 1 day" in d["needs_approval"]
    checks_pass(carol)


def test_quantities_across_returns_and_rejection_gives_back(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb, min_left=2)
    left = ln["qty"] - ln["qty_returned"]
    carol = desk_for(rdb, "carol")
    first = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=left, reason="damaged")], resolution="refund",
                              orders=[ln["number"]])
    with pytest.raises(ValidationError, match="only 0 can be returned"):
        carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="damaged")], resolution="refund",
                          orders=[ln["number"]])
    with pytest.raises(ValidationError, match="needs a reason"):
        carol.returns.reject(first["number"], " ")
    carol.returns.reject(first["number"], "photo shows no damage")
    again = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=left, reason="damaged")], resolution="refund",
                              orders=[ln["number"]])
    assert again["state"] in ("requested", "pending_approval")
    checks_pass(carol)


def test_short_receipt_refunds_what_arrived(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb, min_left=2)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=2, reason="no_longer_needed")],
                          resolution="refund", orders=[ln["number"]])
    d = walk(carol, d["number"], received={ln["sku"]: 1})
    per_unit = ln["amount_cents"] / ln["qty"] / 100
    assert d["lines"][0]["qty_received"] == 1
    assert abs(float(d["lines"][0]["refund"]) - per_unit) < 0.011
    assert d["fee"] != "0.00"  # opened and not our fault
    returned = q(rdb, "SELECT qty_returned FROM order_lines o JOIN orders x ON x.id = o.order_id "
                      "WHERE x.number = ? AND o.sku = ?", ln["number"], ln["sku"])[0][0]
    assert returned == ln["qty_returned"] + 1
    checks_pass(carol)


def test_other_needs_a_note_and_rep_may_not_open_returns(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb)
    carol = desk_for(rdb, "carol")
    with pytest.raises(ValidationError, match="needs a note"):
        carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="other")], resolution="refund",
                          orders=[ln["number"]])
    carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="other")], resolution="refund",
                      orders=[ln["number"]], note="gift duplicate")
    with pytest.raises(PermissionDenied):
        desk_for(rdb, "alice").returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="damaged")],
                                           resolution="refund", orders=[ln["number"]])


def test_multi_order_return_one_customer(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    rows = q(rdb, """SELECT o.customer_id, o.number, l.sku FROM orders o JOIN order_lines l ON l.order_id = o.id
                     WHERE o.state IN ('shipped','closed') AND l.qty > l.qty_returned ORDER BY o.customer_id, o.id""")
    by_cust: dict[int, list[tuple[str, str]]] = {}
    for cid, num, sku in rows:
        if not any(n == num for n, _ in by_cust.get(cid, [])):
            by_cust.setdefault(cid, []).append((num, sku))
    pair = next(v for v in by_cust.values() if len(v) >= 2)
    other = next(v for k, v in by_cust.items() if v[0][0] != pair[0][0] and k != rows[0][0] and v != pair)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(order=n, sku=s, qty=1, reason="damaged") for n, s in pair[:2]],
                          resolution="refund")
    assert d["orders"] == [pair[0][0], pair[1][0]]
    d = walk(carol, d["number"])
    assert d["state"] == "resolved"
    with pytest.raises(ValidationError, match="one customer"):
        carol.returns.new(lines=[ReturnLineInput(order=pair[0][0], sku=pair[0][1], qty=1, reason="damaged"),
                                 ReturnLineInput(order=other[0][0], sku=other[0][1], qty=1, reason="damaged")],
                          resolution="refund")
    checks_pass(carol)


def test_triage_fault_first_and_claims(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    a = shipped_line(rdb, min_left=1)
    b = shipped_line(rdb, min_left=1, exclude=(a["number"],))
    carol = desk_for(rdb, "carol")
    # release the demo's claims and clear the queue's older items out of the way by looking only at ours
    slow = carol.returns.new(lines=[ReturnLineInput(sku=a["sku"], qty=1, reason="no_longer_needed")],
                             resolution="refund", orders=[a["number"]])["number"]
    fast = carol.returns.new(lines=[ReturnLineInput(sku=b["sku"], qty=1, reason="defective")],
                             resolution="refund", orders=[b["number"]])["number"]
    order = [r["number"] for r in carol.returns.list(states=("requested", "pending_approval"))]
    assert order.index(fast) < order.index(slow)
    got = carol.returns.claim(fast)
    assert got.queue == "returns" and got.as_json()["claim_token"]
    with pytest.raises(ClaimLost, match="claimed by carol"):
        desk_for(rdb, "sam").returns.authorize(fast)
    with pytest.raises(ClaimLost, match="pass its claim token"):
        carol.returns.authorize(fast)
    carol.returns.authorize(fast, token=got.claim_token)
    d = carol.returns.reject(slow, "not eligible")
    assert d["state"] == "rejected"
    carol.returns.unclaim(fast, got.claim_token)
    assert carol.returns.detail(fast)["claimed_by"] is None
    checks_pass(carol)


def test_bulk_reports_each_item(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    carol = desk_for(rdb, "carol")
    # carol's own claims are hers to work (the demo has her on a few "right now")
    authorized = [r["number"] for r in carol.returns.list(states=("authorized",)) if r["claimed_by"] in (None, "carol")]
    requested = [r["number"] for r in carol.returns.list(states=("requested",)) if not r["claimed_by"]][:1]
    assert authorized and requested
    held = {n: t for n, t in q(rdb, "SELECT number, claim_token FROM returns WHERE claimed_by = 'carol'")}
    before = q(rdb, "SELECT COUNT(*) FROM events")[0][0]
    results = carol.returns.bulk("receive", authorized + requested, tokens=held)
    assert [r.ok for r in results] == [True] * len(authorized) + [False]
    assert "cannot receive a requested return" in results[-1].message
    assert q(rdb, "SELECT COUNT(*) FROM events WHERE action = 'receive' AND id > ?", before)[0][0] == len(authorized)
    checks_pass(carol)


def test_show_json_shape(rdb: Path, cli) -> None:  # noqa: ANN001
    out = cli("--db", str(rdb), "return", "list", "--json", check=True).stdout
    first = json.loads(out.splitlines()[0])["number"]
    d = json.loads(cli("--db", str(rdb), "return", "show", first, "--json", check=True).stdout)
    for key in ("number", "state", "orders", "lines", "refund_amount", "requested_by"):
        assert key in d
    for key in ("reason", "qty", "qty_received", "grade", "disposition"):
        assert key in d["lines"][0]


def test_check_catches_returns_that_disagree(rdb: Path, desk_for: Callable[..., Desk]) -> None:
    ln = shipped_line(rdb, min_left=2)  # the forged extra unit must not exceed what shipped (another check)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="wrong_item")], resolution="exchange",
                          orders=[ln["number"]])
    walk(carol, d["number"])
    checks_pass(carol)
    c = connect_db(rdb)
    with c:
        c.execute("UPDATE order_lines SET qty_returned = qty_returned + 1 WHERE id = (SELECT order_line_id FROM"
                  " return_lines WHERE return_id = ?)", (d["id"],))
        c.execute("UPDATE orders SET exchange_for_return_id = NULL WHERE exchange_for_return_id = ?", (d["id"],))
    c.close()
    bad = {r.name for r in run_checks(carol.store.conn) if not r.ok}
    assert bad == {"returned quantities agree with returns", "exchanges linked both ways"}


def _shipped_line_on(path: Path, channel: str) -> dict:
    c = connect_db(path)
    c.row_factory = sqlite3.Row
    try:
        r = c.execute(
            """SELECT o.number, l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id
               WHERE o.state IN ('shipped','closed') AND o.channel = ? AND l.qty - l.qty_returned >= 1
                 AND (SELECT COUNT(*) FROM order_lines x WHERE x.order_id = o.id AND x.sku = l.sku) = 1
               ORDER BY o.id LIMIT 1""", (channel,)).fetchone()
        assert r is not None, f"the demo has no shipped {channel} line"
        return dict(r)
    finally:
        c.close()


@pytest.mark.parametrize("channel", ["online", "email"])
def test_exchange_order_keeps_the_original_channel_and_is_made_p2_in_one_step(
        rdb: Path, desk_for: Callable[..., Desk], channel: str) -> None:
    """Issue 12 "A wrong channel": a replacement was stored as a phone order and re-ranked by a second
    UPDATE, so electronic share counted it as phone work and its `created` event said P3. Now it is
    created once, on the original order's channel, as P2, and still worked by a rep (never touchless)."""
    ln = _shipped_line_on(rdb, channel)
    carol = desk_for(rdb, "carol")
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="wrong_item")], resolution="exchange",
                          orders=[ln["number"]])
    d = walk(carol, d["number"])
    row = q(rdb, "SELECT channel, priority, priority_level, straight_through, version, queue_reason, state"
                 " FROM orders WHERE number = ?", d["exchange_order"])[0]
    assert row[:5] == (channel, "P2", 2, 0, 1)  # version 1: written once
    assert row[6] in ("queued", "on_hold")
    assert d["number"] in (row[5] or "")  # the queue says why a rep works it
    created = json.loads(q(rdb, "SELECT data FROM events WHERE ref = ? AND action = 'created'", d["exchange_order"])[0][0])
    assert (created["channel"], created["priority"], created["exchange_for"]) == (channel, "P2", d["number"])
    checks_pass(carol)
