"""Creating an order: the lines checked and priced, the straight-through decision, and the one INSERT
with its `created` event. Order entry, import, the API, EDI intake and a return's exchange all come
through here, so each new order is written one way."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core import orders as machine
from core.enums import Channel, OrderState, Priority, Tier
from core.errors import ValidationError
from core.lines import parse_discount, parse_qty
from core.lookup import resolve
from core.money import line_amount, to_cents_int, to_decimal, to_price_int, from_price_int, from_cents_int
from core.permissions import Action
from core.orders import HoldCheck
from core.triage import Classification
from core.when import check_window
from db.dbapi import Connection
from db import events, orders_read, papers_out, webhooks
from db.convert import ts
from core.addresses import header_event
from db.service.order_header import HeaderInput, header_columns

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



class CreateMixin:
    """OrderService's creation commands (its context, actor and reads come from OrderService)."""

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
        if not straight:  # where it lands in the queue: a live screen places it without a read (issue 14)
            data["queue_key"] = orders_read.queue_key({**row, "id": oid})
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
