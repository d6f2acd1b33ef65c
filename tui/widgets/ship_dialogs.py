"""The order screen's fulfilment dialogs: ship some or all of what is left (`s`), and book stock received
for a line that is short (`k`). Both are forms over the existing services (`desk.orders.ship`,
`desk.stock.receive`); the rules (no more than is left and in hand, ship-complete customers, who gets
received stock first) are theirs, and their refusals show next to the field they name.

Why defaults: the ship form starts each line at what can go now (left and in hand), so shipping all
that is ready is `s` then Enter; the receive form starts with the first short SKU and its shortage.
"""
from __future__ import annotations

from collections.abc import Mapping

from core.enums import OrderState
from core.errors import OrderqError
from core.models import Order
from core.shipping import parse_ship_quantities
from db.service import Desk
from tui.widgets.form_dialog import Field, FormDialog


def _line_field(service_field: str | None) -> str | None:
    """The service names a line's quantity `lines.N.qty` (or `lines.N`); the form's field is `line-N`."""
    parts = (service_field or "").split(".")
    if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
        return f"line-{parts[1]}"
    return service_field


def ship_fields(o: Order) -> list[Field]:
    """One field per line with something left to ship, prefilled with what can ship now."""
    out = []
    for ln in o.lines:
        left = ln.qty - ln.qty_shipped
        if left <= 0:
            continue
        in_hand = ln.qty_allocated - ln.qty_shipped
        waiting = f", {ln.qty_backordered} on backorder" if ln.qty_backordered else ""
        out.append(Field(f"line-{ln.line_no}", f"Line {ln.line_no}  {ln.sku}  {ln.description}".rstrip()
                         + f"\n  {left} of {ln.qty} left to ship, {in_hand} in hand{waiting}",
                         hint="units to ship now (0: none)", value=str(min(left, in_hand))))
    return out


def ship_dialog(desk: Desk, o: Order) -> FormDialog | None:
    """The ship form for order `o`, or None when no line has anything left to ship."""
    fields = ship_fields(o)
    if not fields:
        return None
    number = o.number

    def submit(values: dict[str, str]) -> str:
        try:
            wanted = parse_ship_quantities({int(k.removeprefix("line-")): v for k, v in values.items()})
            desk.orders.ship(number, wanted)
        except OrderqError as e:
            e.field = _line_field(e.field)
            raise
        what = ", ".join(f"line {no} ×{n}" for no, n in wanted.items())
        return f"{number}: shipped {what}"

    return FormDialog(f"Ship {number}", fields, submit, enter_submits=True)


def short_line(o: Order, stock: Mapping[str, int]) -> tuple[str, int] | None:
    """(SKU, units) of the first line still waiting for stock, the receive form's default. Released and
    backordered orders took what was on the shelf: their backorder is what is short. An order not
    released yet (a stock hold) takes from the shelf at release: short is what the shelf lacks."""
    taken = o.state in (OrderState.RELEASED, OrderState.BACKORDERED)
    for ln in o.lines:
        short = ln.qty_backordered if taken else ln.qty_backordered - max(stock.get(ln.sku, 0), 0)
        if short > 0:
            return ln.sku, short
    return None


def receive_dialog(desk: Desk, o: Order, stock: Mapping[str, int]) -> FormDialog:
    """Book stock received: SKU (F4 lists this order's lines' SKUs) and quantity, prefilled with the first
    short line (`stock`: the shelf now, by SKU). The service serves waiting orders earliest due first, not
    only this one."""
    sku, qty = short_line(o, stock) or ("", 0)
    skus = list(dict.fromkeys(ln.sku for ln in o.lines))

    def choices() -> list[tuple[str, str]]:
        by_sku = {ln.sku: ln for ln in o.lines}
        return [(s, f"{by_sku[s].description} · {stock.get(s, 0)} on the shelf") for s in skus]

    def submit(values: dict[str, str]) -> str:
        got = desk.stock.receive(values["sku"], values["qty"])
        served = ", ".join(f"{s['order']}" + (" (ready to ship)" if not s["backordered"] else
                                               f" ({s['backordered']} still short)") for s in got["served"])
        return (f"{got['received']} × {got['sku']} received, {got['stock']} left on the shelf"
                + (f" · served {served}" if served else " · no order was waiting for it"))

    return FormDialog("Receive stock", [
        Field("sku", "SKU", "the product received", choices=choices, value=sku),
        Field("qty", "Quantity", "units received", value=str(qty) if qty else ""),
    ], submit)
