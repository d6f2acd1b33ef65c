"""Storage forms: times are epoch seconds (REAL, UTC), money is whole cents, prices ten-thousandths.

Reading a time back is total (`core.when.from_epoch`): a stored value past datetime's range (a
year-10000 due time written before the date window existed, or by raw SQL) reads as the range's
end instead of crashing every screen that shows it.
"""
from __future__ import annotations

from datetime import datetime

from core.when import from_epoch


def ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the store; pass aware UTC times")
    return value.timestamp()


def dt(value: float | None) -> datetime | None:
    if value is None:
        return None
    return from_epoch(value)


def iso(value: float | None) -> str | None:
    """The JSON form of a stored time."""
    if value is None:
        return None
    return from_epoch(value).isoformat(timespec="seconds").replace("+00:00", "Z")
