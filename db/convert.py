"""Storage forms: times are epoch seconds (REAL, UTC), money is whole cents, prices ten-thousandths."""
from __future__ import annotations

from datetime import UTC, datetime


def ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the store; pass aware UTC times")
    return value.timestamp()


def dt(value: float | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC)


def iso(value: float | None) -> str | None:
    """The JSON form of a stored time."""
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
