"""Field rules for an order line as typed: quantity and discount.

One definition, used by the service when it validates a whole order and by forms that check a
field as the user types, so both say the same thing.
"""
from __future__ import annotations

from decimal import Decimal

from core.errors import ValidationError
from core.money import to_decimal

MAX_QTY = 1_000_000


def parse_qty(value: object) -> int:
    """A whole number > 0 (a leading + is fine); refuses with field="qty"."""
    text = "" if value is None else str(value).strip()
    try:
        qty = int(text)
        if str(qty) != text.lstrip("+"):
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(f"quantity {value!r} is not a whole number", field="qty") from None
    if qty <= 0:
        raise ValidationError("quantity must be more than 0", field="qty")
    if qty > MAX_QTY:
        raise ValidationError(f"quantity {qty} is implausibly large", field="qty")
    return qty


def parse_discount(value: object) -> Decimal:
    """A percentage 0 to 100 with at most 2 decimals; blank means 0; refuses with field="discount"."""
    try:
        disc = to_decimal(value if value not in (None, "") else "0", what="discount")
    except ValueError as e:
        raise ValidationError(str(e), field="discount") from None
    if not Decimal(0) <= disc <= Decimal(100) or disc != disc.quantize(Decimal("0.01")):
        raise ValidationError("discount must be 0 to 100 with at most 2 decimals", field="discount")
    return disc
