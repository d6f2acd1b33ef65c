"""A return's rows and the reads over them: lookups shared by every return command, the F4 list,
`return show`/`list`, and the refund the policy computes (`explain`, and the quote the commands use).

Split from db/service/returns.py (the service the Desk builds), which composes this with the intake,
receiving and resolution commands (db.service.returns_intake, _receiving, _resolution).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import returns as policy
from core.enums import OrderState, Resolution, ReturnReason, ReturnState
from core.errors import DomainError, NotFound, ValidationError
from core.money import from_cents_int
from core.permissions import Action
from db.dbapi import Connection, Row
from db import claims, dialect
from db.convert import iso
from db.migrations import RETURN_QUEUE_ORDER
from db.service.claiming import LeaseMixin, settle_leases

OPEN_STATES = ("requested", "pending_approval", "authorized", "received", "inspected")
RETURNABLE_ORDER_STATES = tuple(s.value for s in OrderState if s.returnable)


def _returnable_order(c: Connection, o: Row) -> bool:
    """Shipped, closed or part shipped; or cancelled after part of it shipped (the rest was cancelled)."""
    if o["state"] in RETURNABLE_ORDER_STATES:
        return True
    return o["state"] == OrderState.CANCELLED.value and c.execute(
        "SELECT 1 FROM order_lines WHERE order_id = ? AND qty_shipped > 0", (o["id"],)).fetchone() is not None


#: when an order's goods last left: `shipped_at` is set only once every line has shipped, so a
#: backordered order's shipped part is dated by its latest ship event (the same moment a complete
#: order's shipped_at records), for the F4 list and the return window alike
SHIPPED_AT = ("COALESCE(o.shipped_at, (SELECT MAX(e.at) FROM events e WHERE e.entity = 'order'"
              " AND e.entity_id = o.id AND e.action = 'ship'))")


@dataclass(frozen=True)
class ReturnLineInput:
    """One line of a return request as typed; `order` may be omitted when the return names one order."""

    sku: str
    qty: Any
    reason: str
    order: str | None = None
    note: str | None = None
    opened: bool = True


def _int(value: Any, what: str, field: str) -> int:
    try:
        text = str(value).strip()
        n = int(text)
        if str(n) != text.lstrip("+"):
            raise ValueError
        return n
    except (TypeError, ValueError):
        raise ValidationError(f"{what} {value!r} is not a whole number", field=field) from None


class ReturnReads(LeaseMixin):
    """The return rows, the reads over them, and the helpers every return command shares."""

    # ---- helpers -----------------------------------------------------------------------
    def _row(self, c: Connection, number: str) -> Row:
        row = c.execute("SELECT * FROM returns WHERE number = ?", ((number or "").strip().upper(),)).fetchone()
        if row is None:
            raise NotFound(f"no return {number!r}", field="number")
        return row

    def _lines(self, c: Connection, return_id: int) -> list[Row]:
        return c.execute(
            """SELECT rl.*, o.number AS order_number, ol.line_no, ol.qty AS line_qty, ol.amount_cents AS line_amount_cents,
                      p.description, p.category
               FROM return_lines rl JOIN orders o ON o.id = rl.order_id
               LEFT JOIN order_lines ol ON ol.id = rl.order_line_id
               LEFT JOIN products p ON p.sku = rl.sku
               WHERE rl.return_id = ? ORDER BY rl.id""", (return_id,)).fetchall()

    @staticmethod
    def _match(lines: list[Row], ref: str) -> Row:
        """A return line by 1-based position (#2 or 2), SKU, or ORDER/SKU."""
        r = ref.strip()
        if r.lstrip("#").isdigit():
            i = int(r.lstrip("#"))
            if 1 <= i <= len(lines):
                return lines[i - 1]
            raise ValidationError(f"no line {i} on this return (it has {len(lines)})", field="line")
        order, _, sku = r.rpartition("/")
        hits = [ln for ln in lines if ln["sku"] == sku.upper() and (not order or ln["order_number"] == order.upper())]
        if not hits:
            raise ValidationError(f"no line {ref!r} on this return", field="line")
        if len(hits) > 1:
            raise ValidationError(f"{ref!r} matches {len(hits)} lines; name it ORDER/SKU or by number (#1)", field="line")
        return hits[0]

    def _fence(self, row: Row, token: str | None, now: datetime) -> None:
        claims.fence(row, user=self._actor, token=token, now=now, need_claim=False)

    def _fenced_step(self, c: Connection, number: str, now: datetime, action: str,
                     token: str | None) -> tuple[Row, ReturnState]:
        """The start of a clerk's step on a return: its row locked, the caller's claim token checked,
        and the state `action` takes it to (the state machine refuses a step out of order)."""
        row = self._locked_row(c, number, now)
        self._fence(row, token, now)
        return row, policy.transition(ReturnState(row["state"]), action)

    def _claim_end(self, row: Row) -> dict[str, Any]:
        """Columns and event data ending a live claim when the return leaves the clerk's queue."""
        if row["claimed_by"] is None:
            return {}
        return {"claim": "drop", "token": row["claim_token"], "holder": row["claimed_by"]}

    _NO_CLAIM = {"claimed_by": None, "claim_token": None, "claimed_at": None, "lease_expires_at": None}


    # ---- reads -------------------------------------------------------------------------
    def shipped_orders(self, search: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Shipped orders with something left to return (the F4 list): number, customer, shipped."""
        self.ctx.require(Action.RETURN_VIEW)
        c = self.ctx.store.conn
        args: list[Any] = []
        where = ""
        if search and search.strip():
            like = f"%{search.strip()}%"
            where = " AND (LOWER(o.number) LIKE LOWER(?) OR LOWER(c.code) LIKE LOWER(?) OR LOWER(c.name) LIKE LOWER(?))"
            args = [like, like, like]
        rows = c.execute(
            f"""SELECT o.number, {SHIPPED_AT} AS shipped_at, o.total_cents, c.code, c.name FROM orders o
                JOIN customers c ON c.id = o.customer_id
                WHERE o.state IN ('shipped','closed','backordered','cancelled') AND EXISTS
                  (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.qty_returned < l.qty_shipped){where}
                ORDER BY o.shipped_at DESC LIMIT ?""", [*args, limit]).fetchall()
        return [{"number": r["number"], "customer": r["code"], "customer_name": r["name"],
                 "shipped_at": iso(r["shipped_at"]), "total": str(from_cents_int(r["total_cents"]))} for r in rows]

    def returnable(self, order: str) -> list[dict[str, Any]]:
        """The lines of a shipped order with how many units can still come back."""
        self.ctx.require(Action.RETURN_VIEW)
        c = self.ctx.store.conn
        o = c.execute("SELECT o.*, c.code FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.number = ?",
                      ((order or "").strip().upper(),)).fetchone()
        if o is None:
            raise NotFound(f"no order {order!r}", field="order")
        if not _returnable_order(c, o):
            raise DomainError(f"{o['number']} is {o['state']}; only shipped orders can be returned", field="order")
        return [{"order": o["number"], "customer": o["code"], "line_no": r["line_no"], "sku": r["sku"],
                 "description": r["description"], "qty": r["qty"], "qty_shipped": r["qty_shipped"],
                 "qty_returned": r["qty_returned"], "returnable": r["qty_shipped"] - r["qty_returned"],
                 "amount": str(from_cents_int(r["amount_cents"]))}
                for r in c.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (o["id"],))]

    def detail(self, number: str) -> dict[str, Any]:
        """Everything about one return, JSON-ready (`return show --json`)."""
        self.ctx.require(Action.RETURN_VIEW)
        settle_leases(self.ctx)
        with self.ctx.store.read() as c:
            return self._detail_in(c, number)

    def _detail_in(self, c: Connection, number: str) -> dict[str, Any]:
        """`detail` on the caller's connection, inside its transaction (a webhook's body is read so)."""
        row = self._row(c, number)
        lines = self._lines(c, row["id"])
        cust = c.execute("SELECT * FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
        exch = (c.execute("SELECT number FROM orders WHERE id = ?", (row["exchange_order_id"],)).fetchone()
                if row["exchange_order_id"] else None)
        orders = list(dict.fromkeys(ln["order_number"] for ln in lines))
        resolved = row["state"] in ("resolved", "closed")
        return {
            "id": row["id"], "number": row["number"], "state": row["state"], "resolution": row["resolution"],
            "priority": row["priority"], "customer": cust["code"], "customer_name": cust["name"],
            "tier": cust["tier"], "orders": orders, "fault": bool(row["fault"]), "note": row["note"],
            "requested_by": row["requested_by"], "requested_at": iso(row["requested_at"]),
            "due_at": iso(row["due_at"]), "needs_approval": row["needs_approval"],
            "approved_by": row["approved_by"], "rejected_reason": row["rejected_reason"],
            "refund_amount": str(from_cents_int(row["refund_cents"])),
            "refund_final": resolved,
            "fee": str(from_cents_int(row["fee_cents"])),
            "shipping_refund": str(from_cents_int(row["shipping_refund_cents"])),
            "exchange_order": exch["number"] if exch else None,
            "claimed_by": row["claimed_by"], "version": row["version"],
            "lines": [
                {"line": i, "order": ln["order_number"], "line_no": ln["line_no"], "sku": ln["sku"],
                 "description": ln["description"], "qty": ln["qty"], "reason": ln["reason"], "note": ln["note"],
                 "opened": bool(ln["opened"]), "qty_received": ln["qty_received"], "grade": ln["grade"],
                 "disposition": ln["disposition"],
                 "refund": str(from_cents_int(ln["refund_cents"])) if resolved else None}
                for i, ln in enumerate(lines, start=1)
            ],
        }

    def list(self, *, states: tuple[str, ...] = (), mine: bool = False, search: str | None = None,
             offset: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        """Returns in queue order (earliest deadline first, then class, tier, value)."""
        self.ctx.require(Action.RETURN_VIEW)
        settle_leases(self.ctx)
        clauses, args = [], []
        if states:
            clauses.append(f"r.state IN ({','.join('?' * len(states))})")
            args += list(states)
        if mine:
            clauses.append("r.claimed_by = ?")
            args.append(self._actor)
        if search and search.strip():
            like = f"%{search.strip()}%"
            clauses.append("(LOWER(r.number) LIKE LOWER(?) OR LOWER(c.code) LIKE LOWER(?) OR LOWER(c.name) LIKE LOWER(?)"
                           " OR r.id IN (SELECT rl.return_id FROM return_lines rl JOIN orders o ON o.id = rl.order_id"
                           " WHERE LOWER(o.number) LIKE LOWER(?) OR rl.sku = ?))")
            args += [like, like, like, like, search.strip().upper()]
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        order = ", ".join(f"r.{x.strip()}" for x in RETURN_QUEUE_ORDER.split(","))
        d = dialect.of(self.ctx.store.conn)
        rows = self.ctx.store.conn.execute(
            f"""SELECT r.*, c.code AS customer_code, c.name AS customer_name, c.tier AS customer_tier,
                  (SELECT {d.group_concat_distinct('o.number')} FROM return_lines rl JOIN orders o ON o.id = rl.order_id
                    WHERE rl.return_id = r.id) AS orders,
                  (SELECT {d.group_concat_distinct('rl.reason')} FROM return_lines rl WHERE rl.return_id = r.id) AS reasons,
                  (SELECT SUM(rl.qty) FROM return_lines rl WHERE rl.return_id = r.id) AS units,
                  (SELECT SUM(COALESCE(rl.qty_received, 0)) FROM return_lines rl WHERE rl.return_id = r.id) AS received
                FROM returns r JOIN customers c ON c.id = r.customer_id{where}
                ORDER BY {order} LIMIT ? OFFSET ?""", [*args, limit, offset]).fetchall()
        return [self._summary(r) for r in rows]

    @staticmethod
    def _summary(r: Row) -> dict[str, Any]:
        return {
            "id": r["id"], "number": r["number"], "state": r["state"], "priority": r["priority"],
            "resolution": r["resolution"], "customer": r["customer_code"], "customer_name": r["customer_name"],
            # sorted: the aggregate's order is not defined (SQLite's group_concat, PostgreSQL's string_agg differ)
            "tier": r["customer_tier"], "orders": sorted(r["orders"].split(",")) if r["orders"] else [],
            "reasons": sorted((r["reasons"] or "").split(",")) if r["reasons"] else [],
            "fault": bool(r["fault"]), "units": r["units"] or 0, "units_received": r["received"] or 0,
            "refund_amount": str(from_cents_int(r["refund_cents"])),
            "requested_by": r["requested_by"], "requested_at": iso(r["requested_at"]), "due_at": iso(r["due_at"]),
            "needs_approval": r["needs_approval"], "claimed_by": r["claimed_by"], "version": r["version"],
        }

    # ---- the policy, applied to rows ---------------------------------------------------
    def _units_refunded_before(self, c: Connection, order_line_id: int, return_id: int) -> int:
        return int(c.execute(
            """SELECT COALESCE(SUM(rl.qty_received), 0) FROM return_lines rl JOIN returns r ON r.id = rl.return_id
               WHERE rl.order_line_id = ? AND rl.return_id != ? AND r.state IN ('resolved','closed')""",
            (order_line_id, return_id)).fetchone()[0])

    def _shipping(self, c: Connection, order_ids: dict[str, int], return_id: int) -> tuple[dict, list[str]]:
        paid, before = {}, []
        for number, oid in order_ids.items():
            paid[number] = from_cents_int(c.execute(
                "SELECT COALESCE(SUM(amount_cents), 0) FROM order_charges WHERE order_id = ? AND kind = 'shipping'",
                (oid,)).fetchone()[0])
            if c.execute(
                """SELECT 1 FROM return_lines rl JOIN returns r ON r.id = rl.return_id
                   WHERE rl.order_id = ? AND rl.return_id != ? AND r.state IN ('resolved','closed')
                     AND rl.reason IN ('damaged','defective','wrong_item','not_as_described') LIMIT 1""",
                (oid, return_id)).fetchone():
                before.append(number)
        return paid, before

    def _quote(self, c: Connection, row: Row, *, received: bool) -> policy.QuoteResult:
        lines = self._lines(c, row["id"])
        qlines = []
        order_ids: dict[str, int] = {}
        # units of one order line refunded earlier in this same return count as "before" for the next line
        within: dict[int, int] = defaultdict(int)
        for ln in lines:
            qty = (ln["qty_received"] or 0) if received else ln["qty"]
            before = self._units_refunded_before(c, ln["order_line_id"], row["id"]) + within[ln["order_line_id"]]
            within[ln["order_line_id"]] += qty
            order_ids[ln["order_number"]] = ln["order_id"]
            qlines.append(policy.QuoteLine(
                key=ln["id"], order=ln["order_number"], sku=ln["sku"], qty=qty, reason=ReturnReason(ln["reason"]),
                opened=bool(ln["opened"]), line_amount=from_cents_int(ln["line_amount_cents"]),
                line_qty=ln["line_qty"], units_before=before))
        paid, before_orders = self._shipping(c, order_ids, row["id"])
        return policy.quote(qlines, resolution=Resolution(row["resolution"]), shipping_paid=paid,
                            shipping_refunded_before=before_orders, policy=self.ctx.rules.returns)

    def explain(self, number: str) -> dict[str, Any]:
        """The refund or credit the policy gives now, line by line (the TUI's resolve panel)."""
        self.ctx.require(Action.RETURN_VIEW)
        c = self.ctx.store.conn
        with self.ctx.store.read():
            row = self._row(c, number)
            received = row["state"] not in ("requested", "pending_approval", "authorized", "rejected")
            q = self._quote(c, row, received=received)
        return {"number": row["number"], "estimate": not received, "total": str(q.total), "gross": str(q.gross),
                "fee": str(q.fee), "shipping": str(q.shipping_total), "explanation": q.explanation}

