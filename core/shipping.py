"""Partial shipments and backorders: what a shipment may take, and who gets stock as it comes in.

Pure rules over plain numbers, so the service (db.service.shipping) and the tests share them.
Per order line three counters grow in step: `qty_allocated` (stock taken off the shelf for it, at
release or when stock is received), `qty_shipped` (of those, handed to the carrier), and the
ordered `qty`. So 0 ≤ shipped ≤ allocated ≤ qty; `qty − allocated` is the line's backorder and
`allocated − shipped` is in hand, waiting for the warehouse.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.errors import DomainError, ValidationError


@dataclass(frozen=True)
class LineProgress:
    line_no: int
    sku: str
    qty: int
    allocated: int
    shipped: int

    @property
    def left(self) -> int:
        """Units not shipped yet (in hand or on backorder)."""
        return self.qty - self.shipped

    @property
    def in_hand(self) -> int:
        return self.allocated - self.shipped

    @property
    def backordered(self) -> int:
        return self.qty - self.allocated


def parse_ship_line(text: str) -> tuple[int, int]:
    """LINE_NO:QTY as typed after `ship --line`."""
    parts = (text or "").split(":")
    if len(parts) != 2:
        raise ValidationError(f"--line {text!r}: use LINE_NO:QTY, e.g. 2:5", field="line")
    try:
        line_no, qty = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValidationError(f"--line {text!r}: LINE_NO and QTY are whole numbers", field="line") from None
    if line_no < 1 or qty < 1:
        raise ValidationError(f"--line {text!r}: LINE_NO and QTY must be 1 or more", field="line")
    return line_no, qty


def parse_ship_quantities(typed: Mapping[int, str]) -> dict[int, int]:
    """{line_no: units} from what a rep typed per line in the ship dialog: blank or 0 ships none of the
    line; anything but a whole number of 0 or more is refused on its line. At least one line must ship.
    What may ship (no more than is left and in hand) stays plan_shipment's rule."""
    out: dict[int, int] = {}
    for no, text in typed.items():
        t = (text or "").strip()
        try:
            units = int(t) if t else 0
        except ValueError:
            raise ValidationError(f"line {no}: {t!r} is not a whole number", field=f"lines.{no}.qty") from None
        if units < 0:
            raise ValidationError(f"line {no}: a quantity is 0 or more", field=f"lines.{no}.qty")
        if units:
            out[no] = units
    if not out:
        raise ValidationError("nothing to ship: type a quantity on at least one line")
    return out


def plan_shipment(lines: Sequence[LineProgress], wanted: Mapping[int, int] | None, *,
                  ship_complete: bool, customer: str = "the customer") -> dict[int, int]:
    """{line_no: units} this shipment takes, or a refusal naming the line at fault.

    `wanted` None ships the whole rest of the order. A line may ship no more than is left on it,
    and only what is in hand (allocated): the rest is a backorder waiting for stock. A "ship
    complete only" customer takes one shipment with everything, never a part."""
    by_no = {ln.line_no: ln for ln in lines}
    if wanted is None:
        wanted = {ln.line_no: ln.left for ln in lines if ln.left > 0}
        if not wanted:
            raise DomainError("nothing is left to ship on this order")
    plan: dict[int, int] = {}
    for no, units in wanted.items():
        ln = by_no.get(no)
        if ln is None:
            raise ValidationError(f"line {no}: the order has lines 1–{len(lines)} only", field=f"lines.{no}")
        if units > ln.left:
            raise ValidationError(f"line {no} ({ln.sku}): ships {units} but only {ln.left} of {ln.qty} are left "
                                  "to ship", field=f"lines.{no}.qty")
        if units > ln.in_hand:
            raise DomainError(f"line {no} ({ln.sku}): only {ln.in_hand} of the {ln.left} left are in stock, "
                              f"{ln.backordered} on backorder; ship the rest with --line once stock is received",
                              field=f"lines.{no}.qty")
        plan[no] = units
    if ship_complete:
        short = [f"line {ln.line_no} ({ln.sku}) {ln.left - plan.get(ln.line_no, 0)} more"
                 for ln in lines if ln.left - plan.get(ln.line_no, 0) > 0]
        if short:
            raise DomainError(f"{customer} takes complete shipments only: this would leave " + "; ".join(short)
                              + " (it waits for all its stock)")
    return plan


def all_shipped(lines: Iterable[LineProgress], plan: Mapping[int, int]) -> bool:
    return all(ln.left - plan.get(ln.line_no, 0) == 0 for ln in lines)


def allocate(needs: Iterable[tuple[object, str, int]], free: Mapping[str, int]) -> dict[object, int]:
    """Share free stock among needs given in the order they are served (earliest due first).

    Each (key, sku, units wanted) takes what is left of its SKU, up to what it wants; a need
    served in part keeps the rest as a backorder. Returns {key: units given} (only keys given >0)."""
    left = dict(free)
    given: dict[object, int] = {}
    for key, sku, want in needs:
        take = min(want, max(left.get(sku, 0), 0))
        if take > 0:
            given[key] = take
            left[sku] -= take
    return given
