"""Order commands. Each runs in one BEGIN IMMEDIATE transaction together with its event."""
from __future__ import annotations

from datetime import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import orders as machine
from core.enums import Channel, HoldReason, OrderState, Priority
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.money import from_cents_int
from core.labels import state_label
from core.permissions import Action, allowed
from core.triage import due_at as due_at_for, effective_due, paused_for
from core.when import DUE_AHEAD, check_window
from db.dbapi import Connection, Row
from db import claims, orders_read, papers_out, webhooks
from db.service import shipping
from db.claims import ORDERS
from db.convert import dt, ts
from db.orders_read import Key, QueueFilter
from db.service.claiming import Claimed, LeaseMixin, settle_leases
from db.service.context import Context
from db.service.order_header import HeaderMixin, guard_po_required
from db.service.order_create import CreateMixin
# the names callers import from here
from db.service.order_create import ChargeInput, LineInput, Replacement, customer_code, validate_lines  # noqa: F401

if TYPE_CHECKING:
    from core.models import Order


class OrderService(LeaseMixin, HeaderMixin, CreateMixin):
    QUEUE = ORDERS
    VIEW = Action.ORDER_VIEW
    WORK = Action.ORDER_WORK
    NOT_CLAIMABLE = "{number} is {state}, not queued; it cannot be claimed"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # ---- helpers -----------------------------------------------------------------------
    def _row(self, c: Connection, number: str) -> Row:
        row = c.execute("SELECT * FROM orders WHERE number = ?", (number,)).fetchone()
        if row is None:
            row = c.execute("SELECT * FROM orders WHERE source_ref = ?", (number,)).fetchone()
        if row is None:
            raise NotFound(f"no order {number!r}", field="number")
        return row

    def _check_version(self, row: Row, expected: int | None) -> None:
        if expected is not None and row["version"] != expected:
            raise Conflict(f"{row['number']} changed since you opened it (version {expected} → {row['version']}); reload")

    def _checklist(self, order_type: str) -> list[str]:
        rt = self.ctx.rules.request_types.get(order_type)
        return list(rt.checklist) if rt else []

    # ---- reads -------------------------------------------------------------------------
    def get(self, number: str) -> Order:
        from db.order_records import load_order  # core.models: not needed to paint the queue

        self.ctx.require(Action.ORDER_VIEW)
        settle_leases(self.ctx)
        c = self.ctx.store.conn
        with self.ctx.store.read():
            row = self._row(c, number)
            return load_order(c, row, self._checklist(row["type"]))

    def set_lines(self, number: str, lines: list[LineInput], *, token: str | None, expected_version: int | None = None) -> Order:
        """Replace the lines of an order being worked; the total follows."""
        self.ctx.require(Action.ORDER_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            self._check_version(row, expected_version)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            self._replace_lines(c, row, lines, now)
        return self.get(number)

    def _replace_lines(self, c: Connection, row: Row, lines: list[LineInput], now: datetime) -> None:
        """The body of `set_lines`, in the caller's transaction (an EDI item mapped by a rep reuses it)."""
        if OrderState(row["state"]) not in (OrderState.QUEUED, OrderState.IN_PROGRESS):
            raise DomainError(f"the lines of a {row['state']} order cannot change")
        priced = validate_lines(c, lines)
        before = [dict(r) for r in c.execute(
            "SELECT sku, qty, unit_price_e4, discount_e2, amount_cents FROM order_lines WHERE order_id = ? ORDER BY line_no",
            (row["id"],))]
        if c.execute("SELECT 1 FROM return_lines WHERE order_id = ?", (row["id"],)).fetchone():
            raise DomainError("lines that have returns against them cannot change")
        stock = shipping.put_back(c, row["id"])  # stock set aside for the old lines goes back
        c.execute("DELETE FROM order_lines WHERE order_id = ?", (row["id"],))
        c.executemany(
            """INSERT INTO order_lines (order_id, line_no, sku, description, qty, unit_price_e4, discount_e2, amount_cents)
               VALUES (?,?,?,?,?,?,?,?)""",
            [(row["id"], p["line_no"], p["sku"], p["description"], p["qty"], p["unit_price_e4"],
              p["discount_e2"], p["amount_cents"]) for p in priced],
        )
        charges = c.execute("SELECT COALESCE(SUM(amount_cents),0) FROM order_charges WHERE order_id = ?", (row["id"],)).fetchone()[0]
        total_cents = sum(p["amount_cents"] for p in priced) + charges
        self._update(c, row, now, total_cents=total_cents)
        self._event(c, row, now, "lines_changed", total=str(from_cents_int(total_cents)),
                    before=before, after=[{k: p[k] for k in ("sku", "qty", "unit_price_e4", "discount_e2", "amount_cents")} for p in priced],
                    **({"stock": stock} if stock else {}))

    # ---- claims (claim_next, claim, renew, unclaim, give_back: LeaseMixin) -------------
    def force_release(self, number: str, reason: str) -> None:
        self.ctx.require(Action.FORCE_RELEASE, number)
        if not (reason and reason.strip()):
            raise ValidationError("a force-release needs a reason", field="reason")
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            if row["claimed_by"] is None:
                raise DomainError(f"{number} is not claimed")
            claims.drop(c, ORDERS, row, actor=self._actor, now=now, action="force_release", extra={"reason": reason})

    def reassign(self, number: str, to_user: str, reason: str | None = None, *,
                 expected_version: int | None = None) -> Claimed:
        """Hand an order to another rep: the old claim ends, the new holder gets a fresh token.
        `expected_version` is the order's version as the supervisor saw it: when another
        supervisor reassigned (or anyone changed) it meanwhile, this one is told it changed."""
        self.ctx.require(Action.REASSIGN, number)
        from db.service.identity import active_user

        now = self.ctx.now()
        with self.ctx.write() as c:
            try:
                target = active_user(c, (to_user or "").strip())
            except PermissionDenied:
                raise ValidationError(f"{to_user!r} is not an active user", field="to") from None
            if target.role is None or not allowed(target.role, Action.ORDER_WORK):
                raise ValidationError(f"{target.name} does not work orders; pick a rep", field="to")
            self._check_version(self._row(c, number), expected_version)
            row = self._locked_row(c, number, now)
            if row["claimed_by"] is not None:
                claims.drop(c, ORDERS, row, actor=self._actor, now=now, action="force_release",
                            extra={"reason": reason or f"reassigned to {target.name}"})
            got = claims.take(c, claims.plan(c, ORDERS, user=target.name, now=now, lease=self.ctx.rules.lease,
                                             item_id=row["id"]))
            if got is None:
                raise DomainError(f"{number} is {state_label(row['state'])}; only a queued or claimed order can be reassigned")
            self._event(c, row, now, "reassign", to=target.name, reason=reason)
        return Claimed.from_row(got, "orders")

    # ---- work --------------------------------------------------------------------------
    def tick(self, number: str, step: str, *, token: str | None) -> None:
        self.ctx.require(Action.ORDER_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            checklist = self._checklist(row["type"])
            if step not in checklist:
                raise ValidationError(f"{step!r} is not on the {row['type']} checklist ({'; '.join(checklist)})", field="step")
            done = c.execute("SELECT ticked_by FROM order_ticks WHERE order_id = ? AND step = ?", (row["id"], step)).fetchone()
            if done:
                raise DomainError(f"{step!r} was ticked already by {done[0]}")
            c.execute("INSERT INTO order_ticks (order_id, step, ticked_by, ticked_at) VALUES (?,?,?,?)",
                      (row["id"], step, self._actor, ts(now)))
            self._update(c, row, now)
            self._event(c, row, now, "tick", step=step)

    def untick(self, number: str, step: str, *, token: str | None) -> None:
        """Take back a tick given by mistake (an event, like the tick itself)."""
        self.ctx.require(Action.ORDER_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            done = c.execute("SELECT ticked_by FROM order_ticks WHERE order_id = ? AND step = ?", (row["id"], step)).fetchone()
            if done is None:
                raise DomainError(f"{step!r} is not ticked", field="step")
            c.execute("DELETE FROM order_ticks WHERE order_id = ? AND step = ?", (row["id"], step))
            self._update(c, row, now)
            self._event(c, row, now, "untick", step=step, was=done[0])

    def hold(self, number: str, reason: str, note: str | None, *, token: str | None = None) -> None:
        self.ctx.require(Action.ORDER_WORK, number)
        try:
            why = HoldReason(reason)
        except ValueError:
            raise ValidationError(f"unknown hold reason {reason!r} ({', '.join(h.value for h in HoldReason)})", field="reason") from None
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=False)
            new = machine.transition(OrderState(row["state"]), "hold")
            data: dict[str, Any] = {"state": new.value, "reason": why.value, "note": note}
            if row["claimed_by"]:
                data.update(claim="drop", token=row["claim_token"], holder=row["claimed_by"])
            self._update(c, row, now, state=new.value, hold_reason=why.value, hold_note=note,
                         hold_started_at=ts(now), claimed_by=None, claim_token=None, claimed_at=None,
                         lease_expires_at=None)
            self._event(c, row, now, "hold", **data)

    def unhold(self, number: str, note: str) -> None:
        self.ctx.require(Action.ORDER_WORK, number)
        if self._row(self.ctx.store.conn, number)["hold_reason"] == HoldReason.CREDIT.value:
            self.ctx.require(Action.LIFT_CREDIT_HOLD, number)  # logged refusal, outside the write
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            new = machine.transition(OrderState(row["state"]), "unhold")
            reason = HoldReason(row["hold_reason"])
            machine.guard_unhold(reason, note, self.ctx.actor.is_supervisor, self.ctx.rules)
            # the hold's open time (core.triage.paused_for) moves due_at on as open time, so that
            # due_at == due_at_for(received_at, class, paused_s) still holds (override recomputes so)
            paused = paused_for(row["state"], row["hold_reason"], row["hold_started_at"], ts(now), self.ctx.rules.calendar)
            due = effective_due(row, ts(now), self.ctx.rules.calendar)
            self._update(c, row, now, state=new.value, hold_reason=None, hold_note=None, hold_started_at=None,
                         paused_s=row["paused_s"] + paused, due_at=due)
            self._event(c, row, now, "unhold", state=new.value, reason=reason.value, note=note, paused_s=paused,
                        due_at=ts(dt(due)))

    def release(self, number: str, *, token: str | None) -> None:
        self.ctx.require(Action.ORDER_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            new = machine.transition(OrderState(row["state"]), "release")
            ticked = [r[0] for r in c.execute("SELECT step FROM order_ticks WHERE order_id = ?", (row["id"],))]
            nlines = c.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", (row["id"],)).fetchone()[0]
            machine.guard_release(self._checklist(row["type"]), ticked, nlines)
            guard_po_required(c, row)
            stock, backorder = shipping.take_for_release(c, row)
            self._update(c, row, now, state=new.value, released_at=ts(now), released_by=self._actor,
                         claimed_by=None, claim_token=None, claimed_at=None, lease_expires_at=None)
            eid = self._event(c, row, now, "release", state=new.value, claim="drop", token=row["claim_token"],
                              holder=row["claimed_by"], stock=stock, **({"backorder": backorder} if backorder else {}))
            webhooks.order_event(c, "order.released", [row["id"]], now=now, event_row_id=eid)
            papers_out.on_release(c, self.ctx.rules, [row["id"]], now)
            if row["channel"] == Channel.EDI.value:  # the partner's 855 / ORDRSP, in the release's transaction
                from db.service.edi_acks import acknowledge_order

                acknowledge_order(c, row["id"], now, self._actor)

    def ship(self, number: str, lines: Mapping[int, int] | None = None) -> None:
        """Hand the whole rest (`lines` None) or {line_no: units} to the carrier. The order is shipped
        when every line has shipped; until then it is backordered (db.service.shipping)."""
        self.ctx.require(Action.ORDER_SHIP, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            state = OrderState(row["state"])
            machine.transition(state, "ship")  # a state that cannot ship at all is refused before its lines
            shipment, complete = shipping.plan(c, row, lines)
            new = machine.transition(state, "ship" if complete else "ship_part")
            shipping.record_shipment(c, row["id"], shipment)
            self._update(c, row, now, state=new.value, **({"shipped_at": ts(now)} if complete else {}))
            shipped = {str(k): v for k, v in shipment.items()}
            eid = self._event(c, row, now, "ship", state=new.value, shipped=shipped, complete=complete)
            webhooks.order_event(c, "order.shipped", [row["id"]], now=now, event_row_id=eid,
                                 extra={"shipment": {"lines": shipped, "complete": complete}})

    def close(self, number: str) -> None:
        self._simple(number, "close", Action.ORDER_SHIP, closed_at=True)

    def _simple(self, number: str, action: str, perm: Action, **stamp: bool) -> None:
        self.ctx.require(perm, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            new = machine.transition(OrderState(row["state"]), action)
            self._update(c, row, now, state=new.value, **{k: ts(now) for k in stamp})
            self._event(c, row, now, action, state=new.value)

    def cancel(self, number: str, reason: str, *, token: str | None = None, before_release: bool = False) -> None:
        """`before_release`: refuse an order already released (a partner's cancel, SPEC §2: once
        released the order is the warehouse's), checked inside the cancel's own transaction."""
        self.ctx.require(Action.ORDER_WORK, number)
        if not (reason and reason.strip()):
            raise ValidationError("cancelling needs a reason", field="reason")
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=False)
            state = OrderState(row["state"])
            if before_release and state not in (OrderState.QUEUED, OrderState.ON_HOLD, OrderState.IN_PROGRESS):
                raise DomainError(f"{row['number']} is {state.value}; it can be cancelled only before release")
            new = machine.transition(state, "cancel")
            data: dict[str, Any] = {"state": new.value, "reason": reason}
            stock = shipping.put_back(c, row["id"])  # set aside at release or by stock received; shipped stays
            if stock:
                data["stock"] = stock
            if row["claimed_by"]:
                data.update(claim="drop", token=row["claim_token"], holder=row["claimed_by"])
            self._update(c, row, now, state=new.value, cancelled_at=ts(now), cancel_reason=reason,
                         claimed_by=None, claim_token=None, claimed_at=None, lease_expires_at=None)
            eid = self._event(c, row, now, "cancel", **data)
            webhooks.order_event(c, "order.cancelled", [row["id"]], now=now, event_row_id=eid)

    def override(self, number: str, *, reason: str, priority: str | None = None, due_at: datetime | None = None) -> None:
        """A supervisor's re-ranking; the reason stays on the order so the queue can explain it."""
        self.ctx.require(Action.OVERRIDE, number)
        if not (reason and reason.strip()):
            raise ValidationError("an override needs a reason", field="reason")
        if priority is None and due_at is None:
            raise ValidationError("say what to override: a class (P1..P4) or a due time", field="priority")
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            if not OrderState(row["state"]).open:
                raise DomainError(f"a {row['state']} order is no longer in the queue; nothing to override")
            cols: dict[str, Any] = {}
            before = {"priority": row["priority"], "due_at": row["due_at"]}
            if priority is not None:
                try:
                    p = Priority(priority.upper())
                except ValueError:
                    raise ValidationError(f"unknown class {priority!r} (P1..P4)", field="priority") from None
                cols.update(priority=p.value, priority_level=p.level)
                if due_at is None:
                    cols["due_at"] = ts(due_at_for(dt(row["received_at"]), p, self.ctx.rules, row["paused_s"]))
            if due_at is not None:
                cols["due_at"] = ts(check_window(due_at, now, field="due_at", ahead=DUE_AHEAD))
            cols["override_note"] = f"{self._actor}: {reason}"
            cols["priority_source"] = f"override by {self._actor}: {reason}"
            self._update(c, row, now, **cols)
            self._event(c, row, now, "override", reason=reason, before=before,
                        after={"priority": cols.get("priority", row["priority"]), "due_at": cols.get("due_at", row["due_at"])})

    def list(self, f: QueueFilter, offset: int = 0, limit: int = 200, *, total: int | None = None,
             after: Key | None = None, before: Key | None = None) -> list[Row]:
        """One window of the queue: at `offset` (read from the end when past half of `total`), or
        the `limit` rows right after / before a row's key (orders_read.key_of), as scrolling asks."""
        self.ctx.require(Action.ORDER_VIEW)
        settle_leases(self.ctx)
        conn = self.ctx.store.conn
        if after is not None:
            return orders_read.window_after(conn, f, after, limit)
        if before is not None:
            return orders_read.window_before(conn, f, before, limit)
        return orders_read.window(conn, f, offset, limit, total)
