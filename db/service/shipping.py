"""Stock taken for order lines, shipments in part, and stock received going to waiting orders.

The rules are core.shipping's; this holds their SQL, always inside the caller's write
transaction, so a command and its stock moves commit (or roll back) together. Every stock move
is recorded in its event as {"stock": {sku: delta}} (db.events), which `check` sums.

`stock receive` serves waiting orders in due order (the queue's own order, earliest due_at
first), so the earliest deadline gets the stock first. Waiting means: a released or backordered
order with a line short of stock (a backorder), or an order on a stock hold. A backorder served
stays where it is, ready to ship — it was released by a rep already and there is nothing left to
decide at the desk. A stock hold whose lines are all covered leaves the hold for the queue, so a
rep can finish and release it with its stock already set aside.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core import shipping as rules
from core.enums import HoldReason, OrderState
from core.errors import DomainError, NotFound, ValidationError
from core.permissions import Action
from core.shipping import LineProgress
from core.triage import effective_due, paused_for
from db.dbapi import Connection, Row
from db import events
from db.convert import dt, ts
from db.migrations import QUEUE_ORDER
from db.service.context import Context

#: the most one `stock receive` books: a typo guard, far above any delivery
MAX_RECEIVE = 10**7


def progress(c: Connection, order_id: int) -> list[LineProgress]:
    return [LineProgress(r["line_no"], r["sku"], r["qty"], r["qty_allocated"], r["qty_shipped"])
            for r in c.execute("SELECT line_no, sku, qty, qty_allocated, qty_shipped FROM order_lines"
                               " WHERE order_id = ? ORDER BY line_no", (order_id,))]


def _move(c: Connection, order_id: int, given: Mapping[int, int], lines: list[LineProgress],
          sign: int) -> dict[str, int]:
    """Add `sign`×units to each line's allocation and the opposite to its SKU's stock; the stock deltas."""
    sku_of = {ln.line_no: ln.sku for ln in lines}
    stock: dict[str, int] = defaultdict(int)
    for no, units in given.items():
        c.execute("UPDATE order_lines SET qty_allocated = qty_allocated + ? WHERE order_id = ? AND line_no = ?",
                  (sign * units, order_id, no))
        stock[sku_of[no]] -= sign * units
    for sku, delta in stock.items():
        c.execute("UPDATE products SET stock = stock + ?, version = version + 1 WHERE sku = ?", (delta, sku))
    return dict(stock)


def take_for_release(c: Connection, row: Row) -> tuple[dict[str, int], dict[str, int]]:
    """At release: free stock for every line's backorder, in line order. Returns (stock deltas,
    {line_no: units still on backorder}). A "ship complete only" customer's order is refused when
    short, as every order used to be: it waits for all its stock on a stock hold."""
    lines = progress(c, row["id"])
    free = {r["sku"]: r["stock"] for r in c.execute(
        "SELECT sku, stock FROM products WHERE sku IN (SELECT sku FROM order_lines WHERE order_id = ?)", (row["id"],))}
    given = rules.allocate([(ln.line_no, ln.sku, ln.backordered) for ln in lines], free)
    short = {ln.line_no: ln.backordered - given.get(ln.line_no, 0) for ln in lines}
    short = {no: n for no, n in short.items() if n > 0}
    if short and ship_complete(c, row):
        by_no = {ln.line_no: ln for ln in lines}
        what = "; ".join(f"line {no} {by_no[no].sku} needs {by_no[no].backordered}, {free.get(by_no[no].sku, 0)} in stock"
                         for no in short)
        raise DomainError(f"not enough stock: {what}; the customer takes complete shipments only "
                          "(put it on a stock hold)")
    return _move(c, row["id"], given, lines, +1), {str(k): v for k, v in short.items()}


def put_back(c: Connection, order_id: int) -> dict[str, int]:
    """Stock set aside and not shipped goes back to the shelf (cancel, changed lines); the deltas."""
    lines = progress(c, order_id)
    return _move(c, order_id, {ln.line_no: ln.in_hand for ln in lines if ln.in_hand}, lines, -1)


def ship_complete(c: Connection, row: Row) -> bool:
    got = c.execute("SELECT ship_complete FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
    return bool(got and got[0])


def plan(c: Connection, row: Row, wanted: Mapping[int, int] | None) -> tuple[dict[int, int], bool]:
    """This shipment's {line_no: units} and whether it completes the order (core.shipping's rules)."""
    lines = progress(c, row["id"])
    code = c.execute("SELECT code FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()[0]
    got = rules.plan_shipment(lines, wanted, ship_complete=ship_complete(c, row), customer=code)
    return got, rules.all_shipped(lines, got)


def record_shipment(c: Connection, order_id: int, shipment: Mapping[int, int]) -> None:
    c.executemany("UPDATE order_lines SET qty_shipped = qty_shipped + ? WHERE order_id = ? AND line_no = ?",
                  [(units, order_id, no) for no, units in shipment.items()])


def set_ship_complete(ctx: Context, customer: str, on: bool) -> None:
    """Mark a customer "ship complete only" (or not): the setter the customers screens and CLI call.
    Such a customer's orders ship in one shipment, waiting for all their stock."""
    ctx.require(Action.CUSTOMER_EDIT, customer)
    with ctx.write() as c:
        row = c.execute("SELECT id, code, ship_complete FROM customers WHERE code = ?", ((customer or "").strip(),)).fetchone()
        if row is None:
            raise NotFound(f"no customer {customer!r}", field="customer")
        c.execute("UPDATE customers SET ship_complete = ?, version = version + 1 WHERE id = ?", (int(on), row["id"]))
        events.append(c, at=ctx.now(), actor=ctx.actor.name, entity="customer", entity_id=row["id"], ref=row["code"],
                      action="ship_complete", data={"ship_complete": bool(on), "was": bool(row["ship_complete"])})


def _cover_rest(c: Connection, order_id: int, given: dict[int, int],
                stock: dict[str, int]) -> tuple[dict[int, int], dict[str, int]]:
    """Set aside every other line's backorder too when free stock covers all of it; else nothing more."""
    lines = progress(c, order_id)
    rest = [(ln.line_no, ln.sku, ln.backordered) for ln in lines if ln.backordered]
    if not rest:  # nothing else waits (and `IN ()` is SQLite's leniency: PostgreSQL refuses it)
        return given, stock
    free = {r["sku"]: r["stock"] for r in c.execute(
        f"SELECT sku, stock FROM products WHERE sku IN ({','.join('?' * len(rest))})", [r[1] for r in rest])}
    more = rules.allocate(rest, free)
    if not rest or any(more.get(no, 0) < want for no, _sku, want in rest):
        return given, stock
    moved = _move(c, order_id, more, lines, +1)
    merged = dict(stock)
    for sku, delta in moved.items():
        merged[sku] = merged.get(sku, 0) + delta
    return {**given, **{no: given.get(no, 0) + n for no, n in more.items()}}, merged


class StockService:
    """`orderq stock receive`: incoming stock, booked and shared out in one transaction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def receive(self, sku: str, qty: Any, note: str | None = None) -> dict[str, Any]:
        """Book `qty` units of `sku` in, then serve waiting orders earliest due first. Returns what
        happened: {"sku", "received", "stock", "served": [{"order", "lines", "freed"}]}."""
        self.ctx.require(Action.STOCK_RECEIVE, sku)
        try:
            units = int(str(qty).strip())
        except ValueError:
            raise ValidationError(f"quantity {qty!r} is not a whole number", field="qty") from None
        if not 1 <= units <= MAX_RECEIVE:
            raise ValidationError(f"quantity must be 1 … {MAX_RECEIVE}", field="qty")
        code = (sku or "").strip().upper()
        now = self.ctx.now()
        actor = self.ctx.actor.name
        with self.ctx.write() as c:
            if c.execute("SELECT 1 FROM products WHERE sku = ?", (code,)).fetchone() is None:
                raise ValidationError(f"unknown SKU {code!r}", field="sku")
            c.execute("UPDATE products SET stock = stock + ?, version = version + 1 WHERE sku = ?", (units, code))
            events.append(c, at=now, actor=actor, entity="product", entity_id=None, ref=code, action="stock_received",
                          data={"stock": {code: units}, "qty": units, **({"note": note} if note else {})})
            served = self._serve(c, code, now)
            left = c.execute("SELECT stock FROM products WHERE sku = ?", (code,)).fetchone()[0]
        return {"sku": code, "received": units, "stock": left, "served": served}

    def _serve(self, c: Connection, sku: str, now: datetime) -> list[dict[str, Any]]:
        waiting = c.execute(
            f"""SELECT o.*, l.line_no, l.qty - l.qty_allocated AS short FROM order_lines l
                JOIN orders o ON o.id = l.order_id
                WHERE l.sku = ? AND l.qty_allocated < l.qty
                  AND (o.state IN ('released','backordered') OR (o.state = 'on_hold' AND o.hold_reason = 'stock'))
                ORDER BY {', '.join('o.' + k.strip() for k in QUEUE_ORDER.split(','))}, l.line_no""", (sku,)).fetchall()
        free = c.execute("SELECT stock FROM products WHERE sku = ?", (sku,)).fetchone()[0]
        given = rules.allocate([((r["id"], r["line_no"]), sku, r["short"]) for r in waiting], {sku: free})
        rows = {r["id"]: r for r in waiting}
        per_order: dict[int, dict[int, int]] = defaultdict(dict)
        for (oid, no), units in given.items():  # type: ignore[misc]
            per_order[oid][no] = units
        out = []
        for oid, lines in per_order.items():  # dicts keep insertion order: due order
            row = rows[oid]
            stock = _move(c, oid, lines, progress(c, oid), +1)
            on_hold = row["state"] == OrderState.ON_HOLD.value
            if on_hold:  # its other lines' stock too, if it is all there now: then the hold can end
                lines, stock = _cover_rest(c, oid, lines, stock)
            c.execute("UPDATE orders SET version = version + 1, updated_at = ? WHERE id = ?", (ts(now), oid))
            left = c.execute("SELECT COALESCE(SUM(qty - qty_allocated), 0) FROM order_lines WHERE order_id = ?",
                             (oid,)).fetchone()[0]
            events.append(c, at=now, actor=self.ctx.actor.name, entity="order", entity_id=oid, ref=row["number"],
                          action="stock_allocated", data={"stock": stock, "lines": {str(k): v for k, v in lines.items()},
                                                          "backordered": left})
            freed = on_hold and left == 0
            if freed:
                self._free_hold(c, row, now)
            out.append({"order": row["number"], "lines": {str(k): v for k, v in lines.items()},
                        "backordered": left, "freed": freed})
        return out

    def _free_hold(self, c: Connection, row: Row, now: datetime) -> None:
        """All its stock is set aside: the stock hold ends and the order queues for a rep again."""
        cal = self.ctx.rules.calendar  # open time, as OrderService.unhold
        paused = paused_for(row["state"], row["hold_reason"], row["hold_started_at"], ts(now), cal)
        due = effective_due(row, ts(now), cal)
        c.execute("""UPDATE orders SET state = 'queued', hold_reason = NULL, hold_note = NULL, hold_started_at = NULL,
                       paused_s = paused_s + ?, due_at = ?, version = version + 1, updated_at = ? WHERE id = ?""",
                  (paused, due, ts(now), row["id"]))
        events.append(c, at=now, actor=self.ctx.actor.name, entity="order", entity_id=row["id"], ref=row["number"],
                      action="unhold", data={"state": OrderState.QUEUED.value, "reason": HoldReason.STOCK.value,
                                             "note": "stock received", "paused_s": paused,
                                             "due_at": ts(dt(due))})
