"""RMA intake and its checks: opening a return (`new`), then authorising, approving or rejecting it.

A new return reserves its quantities on the order lines at once (`qty_returned`, see
db.service.returns), so two returns can never together exceed what shipped; a rejection gives them back.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from core import returns as policy
from core.enums import Resolution, ReturnReason, ReturnState, Tier
from core.errors import PermissionDenied, ValidationError
from core.money import to_cents_int
from core.permissions import Action
from core.triage import due_at
from db.dbapi import Connection, Row
from db import events
from db.convert import dt, ts
from db.service.returns_read import SHIPPED_AT, ReturnLineInput, ReturnReads, _int, _returnable_order


class ReturnIntake(ReturnReads):
    """Opening a return and the decisions on it before any goods come back."""

    def _log_refusal(self, number: str, action: str, msg: str) -> None:
        """A refused command is logged in the audit log, like every permission refusal."""
        try:
            with self.ctx.store.write() as c:
                events.append(c, at=self.ctx.now(), actor=self._actor, entity="permission", entity_id=None,
                              ref=number, action="refused", data={"action": action, "why": msg})
        except Exception:  # noqa: BLE001 - the refusal itself must still reach the user
            pass

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
            row, new = self._fenced_step(c, number, now, "authorize", token)
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

