"""Order commands. Each runs in one BEGIN IMMEDIATE transaction together with its event."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import orders as machine
from core.enums import Channel, HoldReason, OrderState, Priority, Tier
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.lines import parse_discount, parse_qty
from core.lookup import resolve
from core.money import line_amount, to_cents_int, to_decimal, to_price_int, from_price_int, from_cents_int
from core.labels import state_label
from core.permissions import Action, allowed
from core.orders import HoldCheck
from core.triage import Classification, due_at as due_at_for, effective_due, paused_for
from core.when import DUE_AHEAD, check_window
from db.dbapi import Connection, Row
from db import claims, events, orders_read, papers_out, webhooks
from db.service import shipping
from db.claims import ORDERS
from db.convert import dt, ts
from db.orders_read import Key, QueueFilter
from db.service.claiming import Claimed, LeaseMixin, settle_leases
from db.service.context import Context
from core.addresses import header_event
from db.service.order_header import HeaderInput, HeaderMixin, guard_po_required, header_columns

if TYPE_CHECKING:
    from core.models import Order


@dataclass(frozen=True)
class LineInput:
    """One line as typed or imported; validated by the service, never trusted."""

    sku: str
    qty: Any
    discount_pct: Any = "0"
    unit_price: Any = None  # None: the product's price


@dataclass(frozen=True)
class Replacement:
    """What makes a new order an exchange's replacement (SPEC §2 "Returns"): it links back to the
    return, takes the class the returns policy sets, and is prepared by a rep whatever its channel."""

    return_id: int
    return_number: str
    priority: Priority

    def classification(self) -> Classification:
        return Classification(self.priority, f"exchange for {self.return_number} → {self.priority.value}")


@dataclass(frozen=True)
class Created:
    """What a new order's row holds that its creator answers with (the API's 201), as written."""

    number: str
    state: str
    queue_reason: str | None
    total_cents: int
    due_at: float | None


@dataclass(frozen=True)
class ChargeInput:
    code: str
    amount: Any
    kind: str = "other"
    description: str = ""


def customer_code(conn: Connection, text: str) -> str:
    """The customer code `text` stands for, as the entry form reads it (`core.lookup.resolve`: the exact
    code, a unique prefix, the number "3" for C00003, a unique part of the name); else `text` as typed,
    which creation then refuses as unknown."""
    typed = (text or "").strip()
    if conn.execute("SELECT 1 FROM customers WHERE code = ?", (typed,)).fetchone():
        return typed
    choices = [(r[0], r[1]) for r in conn.execute("SELECT code, name FROM customers ORDER BY code")]
    return resolve(typed, choices) or typed


def validate_lines(conn: Connection, lines: list[LineInput]) -> list[dict[str, Any]]:
    """Turn typed lines into priced lines, or refuse naming the line and field at fault."""
    if not lines:
        raise ValidationError("an order needs at least one line", field="lines")
    out = []
    for i, ln in enumerate(lines, start=1):
        sku = (ln.sku or "").strip().upper()
        if not sku:
            raise ValidationError(f"line {i}: SKU is empty", field=f"lines.{i}.sku")
        prod = conn.execute("SELECT * FROM products WHERE sku = ?", (sku,)).fetchone()
        if prod is None:
            raise ValidationError(f"line {i}: unknown SKU {sku!r}", field=f"lines.{i}.sku")
        try:
            qty = parse_qty(ln.qty)
            disc = parse_discount(ln.discount_pct)
        except ValidationError as e:
            raise ValidationError(f"line {i}: {e.message}", field=f"lines.{i}.{e.field}") from None
        if ln.unit_price is None:
            unit = from_price_int(prod["price_e4"])
        else:
            try:
                unit = to_decimal(ln.unit_price, what="unit price")
            except ValueError as e:
                raise ValidationError(f"line {i}: {e}", field=f"lines.{i}.price") from None
            if unit < 0 or unit != unit.quantize(Decimal("0.0001")):
                raise ValidationError(f"line {i}: unit price must be ≥ 0 with at most 4 decimals", field=f"lines.{i}.price")
        out.append({
            "line_no": i, "sku": sku, "description": prod["description"], "qty": qty,
            "unit_price_e4": to_price_int(unit), "discount_e2": int(disc * 100),
            "amount_cents": to_cents_int(line_amount(qty, unit, disc)),
            "active": bool(prod["active"]), "stock": prod["stock"],
        })
    return out


class OrderService(LeaseMixin, HeaderMixin):
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

    # ---- creation ----------------------------------------------------------------------
    def create(
        self,
        *,
        customer: str,
        channel: str,
        type: str,
        lines: list[LineInput],
        charges: list[ChargeInput] = (),  # type: ignore[assignment]
        received_at: datetime | None = None,
        source_ref: str | None = None,
        note: str | None = None,
        header: HeaderInput | None = None,
        typed: bool = True,
    ) -> Order:
        """`header`: ship-to, PO and the rest (db.service.order_header); `typed`: a rep keyed it (a past
        requested date or an unconfirmed duplicate PO is refused), else it came from a partner or import
        (they queue the order for a rep with the reason)."""
        self.ctx.require(Action.ORDER_CREATE)
        try:
            ch = Channel(channel)
        except ValueError:
            raise ValidationError(f"unknown channel {channel!r} ({', '.join(c.value for c in Channel)})", field="channel") from None
        self.ctx.rules.request_type(type)  # refuses unknown types, naming the field
        now = self.ctx.now()
        if received_at is not None:
            check_window(received_at, now, field="received_at")
        with self.ctx.write() as c:
            customer = customer_code(c, customer)
            number = self._create_in(c, now=now, customer=customer, channel=ch, type=type, lines=lines,
                                     charges=list(charges), received_at=received_at or now,
                                     source_ref=source_ref, note=note, header=header, typed=typed)
        return self.get(number)

    def _create_in(self, c: Connection, *, now: datetime, customer: str, channel: Channel, type: str,
                   lines: list[LineInput], charges: list[ChargeInput], received_at: datetime,
                   source_ref: str | None, note: str | None, replacement: Replacement | None = None,
                   header: HeaderInput | None = None, typed: bool = True, needs_rep: str | None = None,
                   extra_hold: HoldCheck | None = None) -> str:
        """The body of order creation, inside the caller's transaction (import and a return's exchange
        reuse it): one INSERT with the final class and channel, so the row and its `created` event agree.
        `needs_rep`: why a rep must work it (an EDI order's unknown item: then it may have no line yet);
        `extra_hold`: a hold the caller found (an EDI partner's price off ours), when no automatic one applies."""
        return self._create_row(c, now=now, customer=customer, channel=channel, type=type, lines=lines,
                                charges=charges, received_at=received_at, source_ref=source_ref, note=note,
                                replacement=replacement, header=header, typed=typed, needs_rep=needs_rep,
                                extra_hold=extra_hold).number

    def _create_row(self, c: Connection, *, now: datetime, customer: str, channel: Channel, type: str,
                    lines: list[LineInput], charges: list[ChargeInput], received_at: datetime,
                    source_ref: str | None, note: str | None, replacement: Replacement | None = None,
                    header: HeaderInput | None = None, typed: bool = True, needs_rep: str | None = None,
                    extra_hold: HoldCheck | None = None, partner_id: int | None = None,
                    source_ref_checked: bool = False) -> Created:
        """`_create_in`, answering what the new row holds (the API's 201 body) without reading it back.
        `partner_id`: the API partner that sent it, in the one INSERT; `source_ref_checked`: the caller
        has just looked for an order from `source_ref` in this transaction (the API's duplicate check,
        which names the earlier order), so it is not looked for twice.
        Every statement here runs under the write lock (bench_api): the header's columns, the partner
        and a straight-through line's allocation go into the INSERTs instead of UPDATEs after them."""
        rules = self.ctx.rules
        cust = c.execute("SELECT * FROM customers WHERE code = ?", ((customer or "").strip(),)).fetchone()
        if cust is None:
            raise ValidationError(f"unknown customer {customer!r}", field="customer")
        if (source_ref and not source_ref_checked
                and c.execute("SELECT 1 FROM orders WHERE source_ref = ?", (source_ref,)).fetchone()):
            raise ValidationError(f"an order from {source_ref!r} exists already", field="source_ref")
        priced = validate_lines(c, lines) if lines or not needs_rep else []
        charge_rows = []
        for ch_in in charges:
            try:
                amt = to_decimal(ch_in.amount, what=f"charge {ch_in.code}")
            except ValueError as e:
                raise ValidationError(str(e), field="charges") from None
            charge_rows.append((ch_in.code, ch_in.kind, ch_in.description, to_cents_int(amt)))
        total_cents = sum(p["amount_cents"] for p in priced) + sum(r[3] for r in charge_rows)
        total = from_cents_int(total_cents)
        tier = Tier(cust["tier"])
        needs: dict[str, int] = defaultdict(int)
        for p in priced:
            needs[p["sku"]] += p["qty"]
        decision = machine.decide(
            rules=rules, channel=channel, order_type=type, tier=tier, known=bool(cust["known"]),
            received_at=received_at, total_cents=total_cents, open_balance_cents=cust["open_balance_cents"],
            credit_limit_cents=cust["credit_limit_cents"], needs=needs,
            available={p["sku"]: p["stock"] for p in priced}, inactive_skus=[p["sku"] for p in priced if not p["active"]],
            max_line_qty=max((p["qty"] for p in priced), default=0),
            fixed_class=replacement.classification() if replacement else None,
            needs_rep=f"replacement for return {replacement.return_number}" if replacement else needs_rep,
        )
        if extra_hold is not None and decision.hold is None and decision.state is OrderState.QUEUED:
            decision = replace(decision, state=OrderState.ON_HOLD, straight=False, hold=extra_hold)
        state, straight, queue_reason, hold = decision.state, decision.straight, decision.queue_reason, decision.hold
        cls, due = decision.cls, decision.due
        if header is None:
            header = HeaderInput(note=note)
        elif note and header.note is None:
            header = replace(header, note=note)
        head, reasons = header_columns(c, cust, header, methods=rules.ship_methods, today=now.date(), typed=typed)
        if reasons and state in (OrderState.QUEUED, OrderState.RELEASED, OrderState.ON_HOLD):
            if state is not OrderState.ON_HOLD:  # a held order keeps its hold, and shows these reasons too
                state, straight = OrderState.QUEUED, False
            queue_reason = "; ".join(([queue_reason] if queue_reason else []) + reasons)

        oid = int(c.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders").fetchone()[0])
        number = f"SO-{oid:06d}"
        row = {"id": oid, "number": number, "customer_id": cust["id"], "channel": channel.value, "type": type,
               "state": state.value, "priority": cls.priority.value, "priority_level": cls.priority.level,
               "priority_source": cls.source, "tier_rank": tier.rank, "received_at": ts(received_at), "due_at": ts(due),
               "hold_reason": hold.reason.value if hold else None, "hold_note": hold.note if hold else None,
               "hold_started_at": ts(now) if hold else None, "total_cents": total_cents,
               "released_at": ts(now) if straight else None, "released_by": "system" if straight else None,
               "straight_through": int(straight), "queue_reason": queue_reason, "source_ref": source_ref,
               "exchange_for_return_id": replacement.return_id if replacement else None, "partner_id": partner_id,
               "created_by": self._actor, "created_at": ts(now), "updated_at": ts(now), **head}
        c.execute(f"INSERT INTO orders ({', '.join(row)}) VALUES ({', '.join(f':{k}' for k in row)})", row)
        # a line released straight through has its stock taken below, in this transaction: allocated as inserted
        c.executemany(
            """INSERT INTO order_lines (order_id, line_no, sku, description, qty, unit_price_e4, discount_e2, amount_cents,
                 qty_allocated) VALUES (?,?,?,?,?,?,?,?,?)""",
            [(oid, p["line_no"], p["sku"], p["description"], p["qty"], p["unit_price_e4"], p["discount_e2"],
              p["amount_cents"], p["qty"] if straight else 0) for p in priced],
        )
        c.executemany(
            "INSERT INTO order_charges (order_id, code, kind, description, amount_cents) VALUES (?,?,?,?,?)",
            [(oid, *r) for r in charge_rows],
        )
        data: dict[str, Any] = {
            "state": OrderState.QUEUED.value if straight else state.value, "customer": cust["code"],
            "channel": channel.value, "type": type, "priority": cls.priority.value, "total": str(total),
            "lines": len(priced), "source_ref": source_ref,
        }
        if note:
            data["note"] = note
        data["header"] = header_event(head)
        if replacement:
            data["exchange_for"] = replacement.return_number
        if hold:
            data["hold"] = {"reason": hold.reason.value, "note": hold.note}
        if queue_reason:
            data["queue_reason"] = queue_reason
        events.append(c, at=now, actor=self._actor, entity="order", entity_id=oid, ref=number, action="created", data=data)
        if straight:
            stock = {}
            for sku, qty in needs.items():
                c.execute("UPDATE products SET stock = stock - ?, version = version + 1 WHERE sku = ?", (qty, sku))
                stock[sku] = -qty
            eid = events.append(c, at=now, actor="system", entity="order", entity_id=oid, ref=number,
                                action="auto_release", data={"state": "released", "stock": stock, "straight_through": True})
            webhooks.order_event(c, "order.released", [oid], now=now, event_row_id=eid)
            papers_out.on_release(c, rules, [oid], now)
        return Created(number=number, state=state.value, queue_reason=queue_reason, total_cents=total_cents,
                       due_at=ts(due))

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
