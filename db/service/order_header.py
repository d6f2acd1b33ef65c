"""The order header: ship-to, bill-to, contact, the customer's PO number, requested date, shipping method, note.

Checked and resolved inside the order's own transaction, so the snapshot stored is the address as it
was at that moment. Two rules live here:

- **Duplicate PO** (the same customer, the same PO number, on an order not cancelled) is a *warning the
  rep must confirm*, not a hold. The rep has the customer on the line and can ask "is this a re-send of
  SO-…?" there and then; blanket POs are legitimately reused across call-offs, and a hold would park a
  good order and need an unhold note for nothing. An order from an import or a partner cannot be asked,
  so it queues for a rep with the reason instead (never straight through).
- **Requested date in the past**: refused when a rep types it; from an import or partner the order
  queues for a rep with that reason (imported history keeps its own dates and never comes here).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from core.addresses import (
    check_requested_ahead, clean_address, clean_po, header_cols, header_event, parse_requested_date, past_date_reason,
    pick_ship_method,
)
from core.enums import OrderState
from core.errors import DomainError, ValidationError
from core.permissions import Action
from db.dbapi import Connection, Row
from db import claims
from db.service.customers import address_dict, contact_dict, snapshot

if TYPE_CHECKING:
    from core.models import Order

#: the longest order note (a page of what the customer said; the hostile-text tests send 7,700 characters)
NOTE_MAX = 10_000


class DuplicatePO(ValidationError):
    """The same customer sent this PO number before; the rep confirms (`--duplicate-po-ok`) or corrects it."""

    code = "duplicate_po"

    def __init__(self, message: str, *, earlier: str) -> None:
        super().__init__(message, field="po_number")
        self.earlier = earlier


@dataclass(frozen=True)
class HeaderInput:
    """The header as typed or imported; checked by `header_columns`, never trusted."""

    ship_to: int | None = None                      # an address id of the customer; None: its default ship-to
    ship_to_address: Mapping[str, Any] | None = None  # a one-off address for this order only
    bill_to: int | None = None                      # None: the default bill-to
    contact: int | None = None                      # None: the customer's first contact
    po_number: Any = None
    requested_date: Any = None
    ship_method: Any = None
    note: Any = None
    duplicate_po_ok: bool = False
    #: an import's ship-to as its source had it (may be incomplete: online-retail gives a country only)
    imported_ship_to: Mapping[str, Any] | None = None


def _address(c: Connection, customer_id: int, kind: str, address_id: int | None) -> tuple[int | None, dict | None]:
    if address_id is None:
        r = c.execute("SELECT * FROM customer_addresses WHERE customer_id = ? AND kind = ? AND is_default = 1",
                      (customer_id, kind)).fetchone()
    else:
        r = c.execute("SELECT * FROM customer_addresses WHERE id = ?", (address_id,)).fetchone()
        if r is None or r["customer_id"] != customer_id or r["kind"] != kind:
            what = kind.replace("_", "-")
            raise ValidationError(f"unknown {what} address {address_id} for this customer "
                                  f"(`orderq customers show` lists them)", field=kind)
    return (r["id"], snapshot(address_dict(r))) if r is not None else (None, None)


def duplicate_po(c: Connection, customer_id: int, po: str, exclude_order: int | None = None) -> str | None:
    """The number of an earlier live order of this customer with this PO number, or None."""
    r = c.execute("""SELECT number FROM orders WHERE customer_id = ? AND po_number = ? AND state != 'cancelled'
                     AND id != ? ORDER BY id LIMIT 1""", (customer_id, po, exclude_order or -1)).fetchone()
    return r[0] if r else None


def header_columns(c: Connection, cust: Row, h: HeaderInput, *, methods: list[str], today: date,
                   typed: bool, order_id: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """The orders columns for this header, and the reasons the order must queue for a rep (untyped only).

    `typed`: a rep typed it (CLI, TUI): a past date or an unconfirmed duplicate PO is refused. Otherwise
    (an import, a partner) they queue the order with the reason."""
    reasons: list[str] = []
    po = clean_po(h.po_number)
    requested = parse_requested_date(h.requested_date)
    check_requested_ahead(requested, today)
    late = past_date_reason(requested, today)
    if late:
        if typed:
            raise ValidationError(late + "; give today or a later date", field="requested_date")
        reasons.append(late)
    method = pick_ship_method(h.ship_method, methods)
    note = str(h.note).strip() if h.note is not None else ""
    if len(note) > NOTE_MAX:
        raise ValidationError(f"the note is {len(note)} characters; at most {NOTE_MAX}", field="note")
    if h.ship_to_address is not None and h.ship_to is not None:
        raise ValidationError("give a ship-to address id or a one-off address, not both", field="ship_to")
    if h.imported_ship_to is not None:
        ship_id, ship = None, clean_address(h.imported_ship_to, complete=False)
    elif h.ship_to_address is not None:
        ship_id, ship = None, clean_address(h.ship_to_address)
    else:
        ship_id, ship = _address(c, cust["id"], "ship_to", h.ship_to)
    _bill_id, bill = _address(c, cust["id"], "bill_to", h.bill_to)
    if h.contact is not None:
        r = c.execute("SELECT * FROM customer_contacts WHERE id = ?", (h.contact,)).fetchone()
        if r is None or r["customer_id"] != cust["id"]:
            raise ValidationError(f"unknown contact {h.contact} for this customer (`orderq customers show` lists them)",
                                  field="contact")
    else:
        r = c.execute("SELECT * FROM customer_contacts WHERE customer_id = ? ORDER BY id LIMIT 1", (cust["id"],)).fetchone()
    contact = {k: v for k, v in contact_dict(r).items() if k != "id"} if r is not None else None
    if po:
        earlier = duplicate_po(c, cust["id"], po, order_id)
        if earlier and typed and not h.duplicate_po_ok:
            raise DuplicatePO(f"PO {po} from {cust['code']} is already on {earlier}; confirm it is a new order "
                              "(--duplicate-po-ok) or correct the PO number", earlier=earlier)
        if earlier and not typed:
            reasons.append(f"duplicate PO {po} (already on {earlier})")
    elif cust["po_required"] and not typed:
        reasons.append(f"{cust['code']} requires a PO number and none came with the order")
    cols = header_cols(ship_to=ship, ship_to_address_id=ship_id, bill_to=bill, contact=contact, po_number=po,
                       requested_date=requested, ship_method=method, note=note)
    return cols, reasons


def guard_po_required(c: Connection, order: Row) -> None:
    """A "PO required" customer's order is not released without a PO number; the refusal says so."""
    r = c.execute("SELECT code, po_required FROM customers WHERE id = ?", (order["customer_id"],)).fetchone()
    if r["po_required"] and not order["po_number"]:
        raise DomainError(f"{r['code']} requires a PO number: add it (orderq order header {order['number']} --po …) "
                          "before releasing", field="po_number")



class HeaderMixin:
    """`OrderService.set_header`, kept beside the rules it applies (the service's helpers come from OrderService)."""

    ctx: Any
    _actor: str

    def set_header(self, number: str, header: HeaderInput, *, token: str | None) -> Order:
        """Change an open order's header (add the PO before release, another ship-to); the claim holder only.
        Only what `header` names changes: unset fields keep the order's value."""
        self.ctx.require(Action.ORDER_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            if not OrderState(row["state"]).open:
                raise DomainError(f"the header of a {row['state']} order cannot change")
            cust = c.execute("SELECT * FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
            merged = replace(header, ship_method=header.ship_method or row["ship_method"],
                             note=header.note if header.note is not None else row["note"])
            cols, _ = header_columns(c, cust, merged, methods=self.ctx.rules.ship_methods, today=now.date(),
                                     typed=True, order_id=row["id"])
            for key, given in (("po_number", header.po_number), ("requested_date", header.requested_date)):
                if given is None:  # kept as it is, not checked again (yesterday's date stays yesterday's)
                    cols[key] = row[key]
            keep_ship = header.ship_to is None and header.ship_to_address is None and row["ship_to"]
            if keep_ship:
                cols.update(ship_to=row["ship_to"], ship_to_address_id=row["ship_to_address_id"])
            if header.bill_to is None and row["bill_to"]:
                cols["bill_to"] = row["bill_to"]
            if header.contact is None and row["contact"]:
                cols["contact"] = row["contact"]
            changed = {k: v for k, v in cols.items() if row[k] != v}
            if changed:
                self._update(c, row, now, **changed)
                self._event(c, row, now, "header_changed", before=header_event({k: row[k] for k in changed}),
                            after=header_event(changed))
        return self.get(number)
