"""Exact money. Prices carry 4 places (the real data has 0.001 prices); amounts round half-even to the cent per line."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Parse money from user or file input; floats are refused because they are already inexact."""
    if isinstance(value, float):
        raise ValueError(f"{what} must be given as a decimal string, not a float")
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{what} {value!r} is not a finite number")
    return d


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def price(amount: Decimal) -> Decimal:
    return amount.quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)


def line_amount(qty: int, unit_price: Decimal, discount_pct: Decimal = Decimal(0)) -> Decimal:
    """qty × price × (1 − discount/100), rounded half-even to the cent, per line (SPEC §2)."""
    return cents(Decimal(qty) * unit_price * (HUNDRED - discount_pct) / HUNDRED)


def to_cents_int(amount: Decimal) -> int:
    """Storage form of an amount: whole cents, exact and summable in SQL."""
    return int(cents(amount) * 100)


def from_cents_int(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def to_price_int(amount: Decimal) -> int:
    """Storage form of a unit price: ten-thousandths."""
    return int(price(amount) * 10000)


def from_price_int(value: int) -> Decimal:
    return (Decimal(value) / 10000).quantize(PRICE_PLACES)


def price_text(d: Decimal) -> str:
    """A unit price: two places, or four when the price needs them (0.001 prices exist)."""
    return f"{d:,.4f}" if d != d.quantize(Decimal("0.01")) else f"{d:,.2f}"


def fmt(amount: Decimal) -> str:
    return f"{cents(amount):,.2f}"
