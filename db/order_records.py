"""Full order records as core.models, and their JSON shape (`order show --json`).

Apart from the queue's reads (db.orders_read) so that the queue screen, which draws plain rows,
paints before pydantic (behind core.models) has loaded.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from core.calendar import Calendar
from core.enums import Channel, HoldReason, OrderState, Priority, Tier
from core.models import Charge, Customer, Order, OrderLine
from core.money import from_cents_int, from_price_int
from db.dbapi import Connection, Row
from db.convert import dt


#: a customer row with its default ship-to's city and country (the picker's "Vienna, Austria")
CUSTOMER_SQL = """SELECT c.*, a.city AS ship_city, COALESCE(NULLIF(a.country, ''), c.country) AS ship_country
    FROM customers c LEFT JOIN customer_addresses a
      ON a.customer_id = c.id AND a.kind = 'ship_to' AND a.is_default = 1"""


def customer_from_row(r: Row) -> Customer:
    keys = r.keys()
    return Customer(
        id=r["id"], code=r["code"], name=r["name"], tier=Tier(r["tier"]),
        credit_limit=from_cents_int(r["credit_limit_cents"]), open_balance=from_cents_int(r["open_balance_cents"]),
        country=r["ship_country"] if "ship_country" in keys else r["country"],
        city=(r["ship_city"] or None) if "ship_city" in keys else None,
        po_required=bool(r["po_required"]) if "po_required" in keys else False,
    )


def _snapshot(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def load_order(conn: Connection, row: Row, checklist: list[str]) -> Order:
    cust = customer_from_row(conn.execute(CUSTOMER_SQL + " WHERE c.id = ?", (row["customer_id"],)).fetchone())
    lines = tuple(
        OrderLine(
            line_no=lr["line_no"], sku=lr["sku"], description=lr["description"], qty=lr["qty"],
            unit_price=from_price_int(lr["unit_price_e4"]), discount_pct=from_cents_int(lr["discount_e2"]),
            amount=from_cents_int(lr["amount_cents"]), qty_returned=lr["qty_returned"],
            qty_shipped=lr["qty_shipped"], qty_allocated=lr["qty_allocated"],
        )
        for lr in conn.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (row["id"],))
    )
    charges = tuple(
        Charge(code=cr["code"], description=cr["description"], amount=from_cents_int(cr["amount_cents"]))
        for cr in conn.execute("SELECT * FROM order_charges WHERE order_id = ? ORDER BY id", (row["id"],))
    )
    ticked = {
        t["step"]: t["ticked_by"]
        for t in conn.execute("SELECT step, ticked_by FROM order_ticks WHERE order_id = ?", (row["id"],))
    }
    return Order(
        id=row["id"], number=row["number"], customer=cust, channel=Channel(row["channel"]), type=row["type"],
        state=OrderState(row["state"]), priority=Priority(row["priority"]), priority_source=row["priority_source"],
        received_at=dt(row["received_at"]), due_at=dt(row["due_at"]), total=from_cents_int(row["total_cents"]),
        hold_reason=HoldReason(row["hold_reason"]) if row["hold_reason"] else None, hold_note=row["hold_note"],
        hold_started_at=dt(row["hold_started_at"]), claimed_by=row["claimed_by"], claim_token=row["claim_token"],
        lease_expires_at=dt(row["lease_expires_at"]), released_at=dt(row["released_at"]),
        shipped_at=dt(row["shipped_at"]), straight_through=bool(row["straight_through"]),
        queue_reason=row["queue_reason"], source_ref=row["source_ref"], version=row["version"],
        lines=lines, charges=charges, checklist=tuple(checklist), ticked=ticked,
        ship_to=_snapshot(row["ship_to"]), bill_to=_snapshot(row["bill_to"]), contact=_snapshot(row["contact"]),
        po_number=row["po_number"], ship_method=row["ship_method"], note=row["note"],
        requested_date=date.fromisoformat(row["requested_date"]) if row["requested_date"] else None,
    )


#: states where a line short of stock is a backorder (before release nothing is owed to the warehouse yet)
_OWED = (OrderState.RELEASED, OrderState.BACKORDERED)


def order_json(o: Order, now: datetime, cal: Calendar) -> dict[str, Any]:
    """`sla_paused` and `effective_due_at` say where a customer hold's stopped clock puts the
    order now (in the desk's open time, `cal`); `due_at` is the stored deadline, without the
    running hold."""
    return {
        "id": o.id,
        "number": o.number,
        "state": o.state.value,
        "priority": o.priority.value,
        "priority_source": o.priority_source,
        "due_at": o.due_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "sla_paused": o.sla_paused,
        "effective_due_at": o.effective_due(now, cal).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "received_at": o.received_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "total": str(o.total),
        "customer": o.customer.code,
        "customer_name": o.customer.name,
        "tier": o.customer.tier.value,
        "channel": o.channel.value,
        "type": o.type,
        "hold_reason": o.hold_reason.value if o.hold_reason else None,
        "hold_note": o.hold_note,
        "claimed_by": o.claimed_by,
        "straight_through": o.straight_through,
        "queue_reason": o.queue_reason,
        "source_ref": o.source_ref,
        "version": o.version,
        "lines": [
            {"line_no": ln.line_no, "sku": ln.sku, "description": ln.description, "qty": ln.qty,
             "unit_price": str(ln.unit_price), "discount_pct": str(ln.discount_pct), "amount": str(ln.amount),
             "qty_returned": ln.qty_returned, "qty_shipped": ln.qty_shipped,
             "qty_backordered": ln.qty_backordered if o.state in _OWED else 0}
            for ln in o.lines
        ],
        "charges": [{"code": c.code, "description": c.description, "amount": str(c.amount)} for c in o.charges],
        "checklist": [{"step": s, "ticked_by": o.ticked.get(s)} for s in o.checklist],
        "ship_to": o.ship_to,
        "bill_to": o.bill_to,
        "contact": o.contact,
        "po_number": o.po_number,
        "requested_date": o.requested_date.isoformat() if o.requested_date else None,
        "ship_method": o.ship_method,
        "note": o.note,
    }
