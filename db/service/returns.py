"""Return (RMA) commands. Each runs in one BEGIN IMMEDIATE transaction together with its event.

`order_lines.qty_returned` counts units *reserved or taken back* by returns: a new return adds its
quantities at once (so two returns can never together exceed what shipped), a rejection gives them
back, and resolving a short receipt gives back the units that never arrived. After resolution it
equals the units actually received back.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import returns as policy
from core.enums import Channel, Disposition, Grade, OrderState, Resolution, ReturnReason, ReturnState, Tier
from core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from core.money import from_cents_int, to_cents_int
from core.permissions import Action
from core.triage import due_at
from db.dbapi import Connection, Row
from db import claims, dialect, events, webhooks
from db.claims import RETURNS
from db.convert import dt, iso, ts
from db.migrations import RETURN_QUEUE_ORDER
from db.service.context import Context
from db.service.claiming import LeaseMixin, settle_leases
from db.service.orders import LineInput

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


@dataclass(frozen=True)
class BatchResult:
    number: str
    ok: bool
    message: str


def _int(value: Any, what: str, field: str) -> int:
    try:
        text = str(value).strip()
        n = int(text)
        if str(n) != text.lstrip("+"):
            raise ValueError
        return n
    except (TypeError, ValueError):
        raise ValidationError(f"{what} {value!r} is not a whole number", field=field) from None


class ReturnService(LeaseMixin):
    QUEUE = RETURNS
    VIEW = Action.RETURN_VIEW
    WORK = Action.RETURN_WORK
    NOT_CLAIMABLE = "{number} is {state}; it is not in the returns queue"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

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

    def _claim_end(self, row: Row) -> dict[str, Any]:
        """Columns and event data ending a live claim when the return leaves the clerk's queue."""
        if row["claimed_by"] is None:
            return {}
        return {"claim": "drop", "token": row["claim_token"], "holder": row["claimed_by"]}

    _NO_CLAIM = {"claimed_by": None, "claim_token": None, "claimed_at": None, "lease_expires_at": None}

    def _log_refusal(self, number: str, action: str, msg: str) -> None:
        """A refused command is logged in the audit log, like every permission refusal."""
        try:
            with self.ctx.store.write() as c:
                events.append(c, at=self.ctx.now(), actor=self._actor, entity="permission", entity_id=None,
                              ref=number, action="refused", data={"action": action, "why": msg})
        except Exception:  # noqa: BLE001 - the refusal itself must still reach the user
            pass

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

    # ---- creation ----------------------------------------------------------------------
    def new(self, *, lines: list[ReturnLineInput], resolution: str, orders: list[str] | None = None,
            note: str | None = None, requested_at: datetime | None = None) -> dict[str, Any]:
        """Open a return against one or more shipped orders of one customer."""
        self.ctx.require(Action.RETURN_WORK)
        res = policy.parse_resolution(resolution)
        orders = [o.strip().upper() for o in (orders or []) if o and o.strip()]
        note = (note or "").strip() or None
        now = requested_at or self.ctx.now()
        with self.ctx.write() as c:
            number = self._new_in(c, now=now, lines=lines, resolution=res, orders=orders, note=note)
        return self.detail(number)

    def _new_in(self, c: Connection, *, now: datetime, lines: list[ReturnLineInput], resolution: Resolution,
                orders: list[str], note: str | None) -> str:
        if not lines:
            raise ValidationError("a return needs at least one line (SKU:QTY:REASON)", field="lines")
        order_rows: dict[str, Row] = {}
        requested: list[policy.Requested] = []
        picked: list[tuple[ReturnLineInput, Row, Row, ReturnReason, int]] = []
        returnable: dict[int, int] = {}
        for i, ln in enumerate(lines, start=1):
            onum = (ln.order or "").strip().upper()
            if not onum:
                if len(orders) != 1:
                    raise ValidationError(f"line {i}: name its order (ORDER:SKU:QTY:REASON) when the return "
                                          f"covers {'no' if not orders else 'several'} orders", field=f"lines.{i}.order")
                onum = orders[0]
            o = order_rows.get(onum)
            if o is None:
                o = c.execute(f"SELECT o.*, {SHIPPED_AT} AS shipped_at FROM orders o WHERE number = ?", (onum,)).fetchone()
                if o is None:
                    raise ValidationError(f"line {i}: no order {onum!r}", field=f"lines.{i}.order")
                if not _returnable_order(c, o):
                    raise ValidationError(f"{onum} is {o['state']}; only shipped orders can be returned", field="order")
                order_rows[onum] = o
            qty = _int(ln.qty, f"line {i}: quantity", f"lines.{i}.qty")
            reason = policy.parse_reason(ln.reason, field=f"lines.{i}.reason")
            sku = (ln.sku or "").strip().upper()
            cands = c.execute("SELECT * FROM order_lines WHERE order_id = ? AND sku = ? ORDER BY line_no",
                              (o["id"], sku)).fetchall()
            if not cands:
                raise ValidationError(f"line {i}: {onum} has no line for SKU {sku!r}", field=f"lines.{i}.sku")
            for cand in cands:
                returnable.setdefault(cand["id"], cand["qty_shipped"] - cand["qty_returned"])  # shipped, line by line
            used: dict[int, int] = defaultdict(int)
            for _ln, _o, olr, _r, q in picked:
                used[olr["id"]] += q
            ol = next((cd for cd in cands if returnable[cd["id"]] - used[cd["id"]] >= qty), cands[0])
            requested.append(policy.Requested(key=ol["id"], sku=sku, qty=qty, reason=reason, note=ln.note))
            picked.append((ln, o, ol, reason, qty))
        for extra in orders:
            if extra not in order_rows:
                raise ValidationError(f"--order {extra} has no line on this return", field="order")
        customers = {o["customer_id"] for o in order_rows.values()}
        if len(customers) != 1:
            raise ValidationError("one return covers orders of one customer only", field="order")
        policy.validate_request(requested, returnable, note)
        cust = c.execute("SELECT * FROM customers WHERE id = ?", (customers.pop(),)).fetchone()
        tier = Tier(cust["tier"])
        rules = self.ctx.rules
        reasons = [p[3] for p in picked]
        cls = policy.classify_return(reasons, tier, rules)
        late = {}
        for _, o, ol, _, _ in picked:
            cat = c.execute("SELECT category FROM products WHERE sku = ?", (ol["sku"],)).fetchone()
            by = policy.outside_window(dt(o["shipped_at"]), cat[0] if cat else None, now, rules.returns)
            if by is not None and (o["number"] not in late or by > late[o["number"]]):
                late[o["number"]] = by
        rid = int(c.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM returns").fetchone()[0])
        number = f"RMA-{rid:06d}"
        c.execute(
            """INSERT INTO returns (id, number, customer_id, state, resolution, priority, priority_level, tier_rank,
                 fault, note, requested_by, requested_at, due_at, created_at, updated_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (rid, number, cust["id"], "requested", resolution.value, cls.priority.value, cls.priority.level,
             tier.rank, int(any(r.fault for r in reasons)), note, self._actor, ts(now),
             ts(due_at(now, cls.priority, rules)), ts(now), ts(now)))
        for ln, o, ol, reason, qty in picked:
            c.execute(
                """INSERT INTO return_lines (return_id, order_id, order_line_id, sku, qty, reason, note, opened)
                   VALUES (?,?,?,?,?,?,?,?)""",
                (rid, o["id"], ol["id"], ol["sku"], qty, reason.value, (ln.note or "").strip() or None, int(ln.opened)))
            c.execute("UPDATE order_lines SET qty_returned = qty_returned + ? WHERE id = ?", (qty, ol["id"]))
        row = self._row(c, number)
        estimate = self._quote(c, row, received=False).total
        why = policy.approval_reasons(estimate=estimate, late=late, policy=rules.returns)
        state = policy.creation_state(why)
        c.execute("UPDATE returns SET state = ?, refund_cents = ?, needs_approval = ? WHERE id = ?",
                  (state.value, to_cents_int(estimate), "; ".join(why) or None, rid))
        events.append(c, at=now, actor=self._actor, entity="return", entity_id=rid, ref=number, action="created",
                      data={"state": state.value, "customer": cust["code"], "resolution": resolution.value,
                            "priority": cls.priority.value, "priority_source": cls.source,
                            "orders": list(order_rows), "estimate": str(estimate), "needs_approval": why or None,
                            "note": note,
                            "lines": [{"order": o["number"], "sku": ol["sku"], "qty": q, "reason": r.value}
                                      for _, o, ol, r, q in picked]})
        return number

    # ---- transitions -------------------------------------------------------------------
    def authorize(self, number: str, *, token: str | None = None) -> dict[str, Any]:
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            self._fence(row, token, now)
            new = policy.transition(ReturnState(row["state"]), "authorize")
            self._update(c, row, now, state=new.value, authorized_at=ts(now))
            self._event(c, row, now, "authorize", state=new.value)
        return self.detail(number)

    def approve(self, number: str, note: str | None = None) -> dict[str, Any]:
        self.ctx.require(Action.RETURN_APPROVE, number)
        now = self.ctx.now()
        try:
            policy.guard_approver(self._row(self.ctx.store.conn, number)["requested_by"], self._actor)
        except PermissionDenied as e:
            self._log_refusal(number, "return.approve", e.message)
            raise
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            new = policy.transition(ReturnState(row["state"]), "approve")
            policy.guard_approver(row["requested_by"], self._actor)
            self._update(c, row, now, state=new.value, approved_by=self._actor, approved_at=ts(now),
                         authorized_at=ts(now))
            self._event(c, row, now, "approve", state=new.value, why=row["needs_approval"], note=note)
        return self.detail(number)

    def reject(self, number: str, reason: str, *, token: str | None = None) -> dict[str, Any]:
        if not (reason and reason.strip()):
            raise ValidationError("a rejection needs a reason", field="reason")
        self.ctx.require(Action.RETURN_WORK, number)
        if self._row(self.ctx.store.conn, number)["state"] == ReturnState.PENDING_APPROVAL.value:
            self.ctx.require(Action.RETURN_APPROVE, number)  # declining a pending return is an approval decision
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            if row["state"] == ReturnState.PENDING_APPROVAL.value and not self.ctx.can(Action.RETURN_APPROVE):
                raise PermissionDenied(f"{self._actor} may not reject a return waiting for approval")
            self._fence(row, token, now)
            new = policy.transition(ReturnState(row["state"]), "reject")
            for ln in c.execute("SELECT order_line_id, qty FROM return_lines WHERE return_id = ?", (row["id"],)).fetchall():
                c.execute("UPDATE order_lines SET qty_returned = qty_returned - ? WHERE id = ?", (ln[1], ln[0]))
            end = self._claim_end(row)
            self._update(c, row, now, state=new.value, rejected_reason=reason.strip(), refund_cents=0,
                         **(self._NO_CLAIM if end else {}))
            self._event(c, row, now, "reject", state=new.value, reason=reason.strip(), **end)
        return self.detail(number)

    def receive(self, number: str, received: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        """Record units received per line (ref → qty); lines not named arrived in full. Short receipts allowed."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            self._fence(row, token, now)
            new = policy.transition(ReturnState(row["state"]), "receive")
            lines = self._lines(c, row["id"])
            got = {ln["id"]: ln["qty"] for ln in lines}
            for ref, qty in (received or {}).items():
                ln = self._match(lines, ref)
                n = _int(qty, f"received quantity for {ref}", "qty_received")
                if not 0 <= n <= ln["qty"]:
                    raise ValidationError(f"{ln['sku']}: received {n}, must be 0 to {ln['qty']} (the quantity authorized)",
                                          field="qty_received")
                got[ln["id"]] = n
            short = []
            for ln in lines:
                c.execute("UPDATE return_lines SET qty_received = ? WHERE id = ?", (got[ln["id"]], ln["id"]))
                if got[ln["id"]] < ln["qty"]:
                    short.append({"sku": ln["sku"], "order": ln["order_number"], "expected": ln["qty"],
                                  "received": got[ln["id"]]})
            self._update(c, row, now, state=new.value, received_at=ts(now))
            self._event(c, row, now, "receive", state=new.value,
                        received={ln["sku"]: got[ln["id"]] for ln in lines}, short=short or None)
        return self.detail(number)

    def inspect(self, number: str, results: dict[str, tuple[str, str]] | None = None, *,
                default: tuple[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
        """Grade and disposition per received line (ref → (grade, disposition)); `restock` puts units back in stock."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            self._fence(row, token, now)
            new = policy.transition(ReturnState(row["state"]), "inspect")
            lines = self._lines(c, row["id"])
            chosen: dict[int, tuple[str, str]] = {}
            for ref, gd in (results or {}).items():
                chosen[self._match(lines, ref)["id"]] = gd
            stock: dict[str, int] = defaultdict(int)
            record = []
            for ln in lines:
                if not ln["qty_received"]:
                    continue
                gd = chosen.get(ln["id"], default)
                if gd is None:
                    raise ValidationError(f"{ln['order_number']}/{ln['sku']}: give a grade and a disposition",
                                          field="grade")
                try:
                    grade = Grade(gd[0].strip().lower())
                except ValueError:
                    raise ValidationError(f"unknown grade {gd[0]!r} ({', '.join(g.value for g in Grade)})",
                                          field="grade") from None
                try:
                    disp = Disposition(gd[1].strip().lower())
                except ValueError:
                    raise ValidationError(f"unknown disposition {gd[1]!r} ({', '.join(d.value for d in Disposition)})",
                                          field="disposition") from None
                c.execute("UPDATE return_lines SET grade = ?, disposition = ? WHERE id = ?",
                          (grade.value, disp.value, ln["id"]))
                if disp == Disposition.RESTOCK:
                    stock[ln["sku"]] += ln["qty_received"]
                record.append({"sku": ln["sku"], "order": ln["order_number"], "grade": grade.value,
                               "disposition": disp.value, "qty": ln["qty_received"]})
            for sku, n in stock.items():
                c.execute("UPDATE products SET stock = stock + ?, version = version + 1 WHERE sku = ?", (n, sku))
            data: dict[str, Any] = {"state": new.value, "lines": record}
            if stock:
                data["stock"] = dict(stock)
            self._update(c, row, now, state=new.value, inspected_at=ts(now))
            self._event(c, row, now, "inspect", **data)
        return self.detail(number)

    def resolve(self, number: str, *, token: str | None = None) -> dict[str, Any]:
        """Pay what the policy computes (never typed); an exchange opens a linked P2 replacement order."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            self._fence(row, token, now)
            new = policy.transition(ReturnState(row["state"]), "resolve")
            q = self._quote(c, row, received=True)
            for ln, gross, _fee in q.lines:
                c.execute("UPDATE return_lines SET refund_cents = ? WHERE id = ?", (to_cents_int(gross), ln.key))
            # units that never arrived are no longer "returned" on the order line
            for ln in self._lines(c, row["id"]):
                missing = ln["qty"] - (ln["qty_received"] or 0)
                if missing:
                    c.execute("UPDATE order_lines SET qty_returned = qty_returned - ? WHERE id = ?",
                              (missing, ln["order_line_id"]))
            exchange = None
            if row["resolution"] == Resolution.EXCHANGE.value:
                exchange = self._exchange_order(c, row, now)
            end = self._claim_end(row)
            self._update(c, row, now, state=new.value, resolved_at=ts(now), refund_cents=to_cents_int(q.total),
                         fee_cents=to_cents_int(q.fee), shipping_refund_cents=to_cents_int(q.shipping_total),
                         exchange_order_id=exchange[0] if exchange else None, **(self._NO_CLAIM if end else {}))
            eid = self._event(c, row, now, "resolve", state=new.value, resolution=row["resolution"],
                              refund=str(q.total), fee=str(q.fee), shipping=str(q.shipping_total),
                              explanation=q.explanation, exchange_order=exchange[1] if exchange else None, **end)
            webhooks.return_event(c, "return.resolved", row["id"], now=now, event_row_id=eid,
                                  view=lambda: _api_view(self._detail_in(c, number)))
        return self.detail(number)

    def _exchange_order(self, c: Connection, row: Row, now: datetime) -> tuple[int, str] | None:
        """The replacement order for the units received, created in one step: on the original
        order's channel (where the business came from; SPEC §2 has no channel for replacements, and
        phone would skew electronic share), in the returns policy's class (P2), worked by a rep."""
        from db.service.orders import OrderService, Replacement

        lines = [ln for ln in self._lines(c, row["id"]) if ln["qty_received"]]
        if not lines:
            return None
        first = c.execute("SELECT channel FROM orders WHERE id = ?", (lines[0]["order_id"],)).fetchone()
        cust = c.execute("SELECT code FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
        rules = self.ctx.rules
        otype = "change" if "change" in rules.request_types else next(iter(rules.request_types))
        number = OrderService(self.ctx)._create_in(
            c, now=now, customer=cust["code"], channel=Channel(first["channel"]), type=otype,
            lines=[LineInput(sku=ln["sku"], qty=ln["qty_received"], unit_price="0") for ln in lines],
            charges=[], received_at=now, source_ref=None, note=f"exchange for {row['number']}",
            replacement=Replacement(row["id"], row["number"], rules.returns.exchange_priority))
        o = c.execute("SELECT id FROM orders WHERE number = ?", (number,)).fetchone()
        return o["id"], number

    def close(self, number: str) -> dict[str, Any]:
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            new = policy.transition(ReturnState(row["state"]), "close")
            self._update(c, row, now, state=new.value, closed_at=ts(now))
            self._event(c, row, now, "close", state=new.value)
        return self.detail(number)

    # ---- bulk --------------------------------------------------------------------------
    def bulk(self, action: str, numbers: list[str], tokens: dict[str, str] | None = None) -> list[BatchResult]:
        """Approve, receive (in full) or resolve several returns: each its own transaction and event.

        `tokens`: number → claim token for returns this session holds."""
        tok = (tokens or {}).get
        verbs = {"approve": lambda n: self.approve(n), "receive": lambda n: self.receive(n, token=tok(n)),
                 "resolve": lambda n: self.resolve(n, token=tok(n)), "authorize": lambda n: self.authorize(n, token=tok(n)),
                 "close": lambda n: self.close(n)}
        if action not in verbs:
            raise ValidationError(f"no bulk {action!r} ({', '.join(verbs)})", field="action")
        out = []
        from core.errors import OrderqError

        for n in numbers:
            try:
                d = verbs[action](n)
                msg = f"{d['state']}" + (f", {d['refund_amount']}" if action == "resolve" else "")
                out.append(BatchResult(n, True, msg))
            except OrderqError as e:
                out.append(BatchResult(n, False, e.message))
        return out


def _api_view(detail: dict[str, Any]) -> dict[str, Any]:
    """A return as the HTTP API shows it to a partner (the body of its `return.resolved` webhook)."""
    from db.service.partner_api import PartnerApi

    return PartnerApi._return_view(detail)
