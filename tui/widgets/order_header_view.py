"""The order header as the order screen shows it: ship-to, bill-to, contact, PO, requested date, method,
note; the address beside the checklist's "confirm ship-to"; and the PO rule's release block.

Its own module so the order screen (which others split and reword) gains three calls, not a block of code.
"""
from __future__ import annotations

from textual.content import Content

from core.addresses import address_line
from core.errors import ValidationError
from core.models import Order
from db.service import Desk
from db.service.order_header import DuplicatePO, HeaderInput
from tui.plain import styled
from tui.widgets.note_dialog import NoteDialog

#: the checklist step whose tick confirms the ship-to address
CONFIRM_SHIP_TO = "confirm ship-to"


def header_details(o: Order) -> Content:
    """Ship to / bill to / contact / PO · requested · ship by / note, one line each (user text as text)."""
    lines = [styled("Ship to [b]$ship[/]", ship=address_line(o.ship_to) or "(no address on the order)")]
    if o.bill_to:
        lines.append(styled("Bill to $bill", bill=address_line(o.bill_to)))
    if o.contact:
        lines.append(styled("Contact $who", who="  ".join(
            x for x in (o.contact.get("name"), o.contact.get("email"), o.contact.get("phone")) if x)))
    po = o.po_number or ("(none: required to release)" if o.customer.po_required else "(none)")
    lines.append(styled("PO [b]$po[/]   Requested $date   Ship by [b]$method[/]", po=po,
                        date=o.requested_date.isoformat() if o.requested_date else "(no date)",
                        method=o.ship_method or "-"))
    if o.note:
        lines.append(styled("Note: $note", note=o.note))
    return Content("\n").join(lines)


def checklist_detail(step: str, o: Order) -> Content | None:
    """What a step confirms, shown under it: the address for "confirm ship-to"."""
    if step != CONFIRM_SHIP_TO:
        return None
    return styled("      [dim]→[/] $addr", addr=address_line(o.ship_to) or "no ship-to on the order")


def po_block(o: Order) -> str | None:
    """The release refusal a "PO required" customer's order without a PO meets (the service says the same)."""
    if o.customer.po_required and not o.po_number:
        return f"{o.customer.code} requires a PO number (add it before releasing)"
    return None


def po_dialog(desk: Desk, number: str, current: str | None, token: str | None) -> NoteDialog:
    """The PO number of an order being worked. A PO this customer sent before is shown as a warning under the
    field; Enter again on the same PO confirms it is a new order (the CLI's --duplicate-po-ok)."""
    warned: list[str] = []

    def submit(po: str) -> None:
        try:
            desk.orders.set_header(number, HeaderInput(po_number=po, duplicate_po_ok=po in warned), token=token)
        except DuplicatePO as e:
            warned.append(po)
            raise ValidationError(f"{e.message.split(';')[0]}: Enter again if this is a new order, or correct it",
                                  field="po_number") from None

    return NoteDialog(f"PO number for {number}", "The customer's PO number (at most 35 characters)", submit,
                      initial=current or "")
