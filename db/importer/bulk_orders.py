"""Orders in a bulk import: live work decided exactly as live entry decides it (state, holds,
straight-through, stock), and orders fulfilled before the import, arriving shipped as history.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from core.addresses import HEADER_COLUMNS, header_cols, header_event, past_date_reason
from core.enums import Channel, OrderState
from core.intake import amount_cents, cents_text
from core.orders import decide
from core.triage import classify, due_at
from db import orders_read
from db.convert import ts
from db.importer.bulk_chunk import BulkChunk, Cust
from db.service.customers import address_dict, snapshot


@dataclass(slots=True)
class Goods:
    """A priced line to write. Anything with these four attributes will do (core.intake.SourceLine has them)."""

    sku: str
    qty: int
    price_e4: int
    discount_e2: int = 0


class BulkOrders(BulkChunk):
    """Priced order rows, with their header, events and stock, buffered for the chunk."""

    # ---- orders ------------------------------------------------------------------------------
    def header(self, customer: Cust, ship_to: dict[str, Any] | None, *, live: bool, requested_date: date | None = None,
               ship_method: str | None = None) -> tuple:
        """The header columns (core.addresses.HEADER_COLUMNS order) live entry writes for this order: the
        source's ship-to (else the customer's default), the default bill-to and first contact, the source's
        requested date, and its shipping method (for live work, else the rules' default). History gets only
        what its source recorded: the rest was never known."""
        if not live:
            return tuple(header_cols(ship_to=ship_to, ship_to_address_id=None, bill_to=None, contact=None,
                                     po_number=None, requested_date=requested_date, ship_method=ship_method,
                                     note=None).values())
        d = self._header_defaults.get(customer.id)
        if d is None:
            c = self.conn
            ship = c.execute("SELECT * FROM customer_addresses WHERE customer_id = ? AND kind = 'ship_to' AND is_default = 1",
                             (customer.id,)).fetchone()
            bill = c.execute("SELECT * FROM customer_addresses WHERE customer_id = ? AND kind = 'bill_to' AND is_default = 1",
                             (customer.id,)).fetchone()
            who = c.execute("SELECT name, email, phone FROM customer_contacts WHERE customer_id = ? ORDER BY id LIMIT 1",
                            (customer.id,)).fetchone()
            d = (ship["id"] if ship else None, snapshot(address_dict(ship)) if ship else None,
                 snapshot(address_dict(bill)) if bill else None,
                 {"name": who[0], "email": who[1], "phone": who[2]} if who else None)
            self._header_defaults[customer.id] = d
        ship_id, default_ship, bill, contact = d
        if ship_to is None or ship_to == default_ship:
            ship_to, sid = default_ship, ship_id
        else:
            sid = None
        return tuple(header_cols(ship_to=ship_to, ship_to_address_id=sid, bill_to=bill, contact=contact, po_number=None,
                                 requested_date=requested_date, ship_method=ship_method or self.rules.ship_methods[0],
                                 note=None).values())

    def _priced(self, oid: int, goods: list[Goods]) -> tuple[list[tuple], int, dict[str, int], int]:
        rows = []
        total = 0
        needs: dict[str, int] = defaultdict(int)
        max_qty = 0
        lid = self.next_line
        self.next_line += len(goods)
        products = self.products
        for i, g in enumerate(goods, start=1):
            qty, p = g.qty, g.price_e4
            if g.discount_e2:
                amt = amount_cents(qty, p, g.discount_e2)
            else:  # the common case, inlined: qty × price half-even to the cent
                q, r = divmod(qty * p, 100)
                amt = q + 1 if r > 50 or (r == 50 and q & 1) else q
            rows.append((lid, oid, i, g.sku, products[g.sku].description, qty, p, g.discount_e2, amt))
            lid += 1
            total += amt
            needs[g.sku] += qty
            if qty > max_qty:
                max_qty = qty
        return rows, total, needs, max_qty

    def add_order(self, *, ref: str, customer: Cust, channel: Channel, order_type: str, received_at: datetime,
                  goods: list[Goods], charges: list[tuple[str, str, str, int]],
                  ship_to: dict[str, Any] | None = None, requested_date: date | None = None,
                  ship_method: str | None = None) -> tuple[OrderState, int]:
        """One order exactly as live entry creates it: rows, state, holds, straight-through, events, stock.
        A requested date already past queues it for a rep with that reason, as live entry does for an
        untyped order (db.service.order_header.header_columns)."""
        oid = self.next_order
        self.next_order += 1
        number = f"SO-{oid:06d}"
        rows, total, needs, max_qty = self._priced(oid, goods)
        total += sum(ch[3] for ch in charges)
        products = self.products
        available = {g.sku: products[g.sku].stock for g in goods}
        d = decide(
            rules=self.rules, channel=channel, order_type=order_type, tier=customer.tier, known=customer.known,
            received_at=received_at, total_cents=total, open_balance_cents=customer.open_balance_cents,
            credit_limit_cents=customer.credit_limit_cents, needs=needs, available=available,
            inactive_skus=[g.sku for g in goods if not products[g.sku].active], max_line_qty=max_qty,
        )
        late = past_date_reason(requested_date, self.now.date())
        if late and d.state in (OrderState.QUEUED, OrderState.RELEASED):
            d = replace(d, state=OrderState.QUEUED, straight=False,
                        queue_reason="; ".join(([d.queue_reason] if d.queue_reason else []) + [late]))
        now_ts = self.now_ts
        hold = d.hold
        head = self.header(customer, ship_to, live=True, requested_date=requested_date, ship_method=ship_method)
        self.order_rows.append((
            oid, number, customer.id, channel.value, order_type, d.state.value, d.cls.priority.value,
            d.cls.priority.level, d.cls.source, customer.tier.rank, ts(received_at), ts(d.due),
            hold.reason.value if hold else None, hold.note if hold else None, now_ts if hold else None, total,
            now_ts if d.straight else None, "system" if d.straight else None, int(d.straight), d.queue_reason,
            ref, self.actor, now_ts, now_ts, None, 0, *head,
        ))
        # straight through: released with its stock taken, as live entry does; else nothing allocated yet
        self.line_rows.extend((*r, r[5] if d.straight else 0, 0) for r in rows)
        self.charge_rows.extend((oid, *ch) for ch in charges)
        data: dict[str, Any] = {
            "state": OrderState.QUEUED.value if d.straight else d.state.value, "customer": customer.code,
            "channel": channel.value, "type": order_type, "priority": d.cls.priority.value,
            "total": cents_text(total), "lines": len(rows), "source_ref": ref,
            "header": header_event(dict(zip(HEADER_COLUMNS, head))),
        }
        if hold:
            data["hold"] = {"reason": hold.reason.value, "note": hold.note}
        if d.queue_reason:
            data["queue_reason"] = d.queue_reason
        if not d.straight:  # as live entry writes it (db.service.order_create)
            data["queue_key"] = orders_read.queue_key({"due_at": ts(d.due), "priority_level": d.cls.priority.level,
                                                       "tier_rank": customer.tier.rank, "total_cents": total, "id": oid})
        self.event("order", oid, number, "created", data)
        if d.straight:
            stock = {}
            for sku, qty in needs.items():
                products[sku].stock -= qty
                self.stock_delta[sku] -= qty
                self.stock_writes[sku] += 1
                stock[sku] = -qty
            self.event("order", oid, number, "auto_release",
                       {"state": "released", "stock": stock, "straight_through": True}, actor="system")
            self.released.append(oid)
        self.order_refs.add(ref)
        return d.state, total

    def add_historical_order(self, *, ref: str, customer: Cust, channel: Channel, order_type: str,
                             received_at: datetime, shipped_at: datetime, goods: list[Goods],
                             charges: list[tuple[str, str, str, int]],
                             due: datetime | None = None, ship_to: dict[str, Any] | None = None,
                             requested_date: date | None = None, ship_method: str | None = None) -> tuple[OrderState, int]:
        """An order that was fulfilled before the import: it arrives shipped on its real date (released then
        too: when it was handed on is not recorded, only that it shipped), marked `history`, and its stock is
        long gone. `due`: the date the source says it was required by (else the class's SLA)."""
        oid = self.next_order
        self.next_order += 1
        number = f"SO-{oid:06d}"
        rows, total, _needs, _ = self._priced(oid, goods)
        total += sum(ch[3] for ch in charges)
        cls = classify(self.rules, order_type, customer.tier)
        due = due or due_at(received_at, cls.priority, self.rules)
        self.order_rows.append((
            oid, number, customer.id, channel.value, order_type, OrderState.SHIPPED.value, cls.priority.value,
            cls.priority.level, cls.source, customer.tier.rank, ts(received_at), ts(due), None, None, None, total,
            ts(shipped_at), "import", 0, None, ref, self.actor, self.now_ts, self.now_ts, ts(shipped_at), 1,
            *self.header(customer, ship_to, live=False, requested_date=requested_date, ship_method=ship_method),
        ))
        self.line_rows.extend((*r, r[5], r[5]) for r in rows)  # shipped whole before the import
        self.charge_rows.extend((oid, *ch) for ch in charges)
        self.event("order", oid, number, "created", {
            "state": OrderState.SHIPPED.value, "customer": customer.code, "channel": channel.value,
            "type": order_type, "priority": cls.priority.value, "total": cents_text(total), "lines": len(rows),
            "source_ref": ref, "imported": "shipped before import",
        })
        self.order_refs.add(ref)
        return OrderState.SHIPPED, total
