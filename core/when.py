"""Times: parsing what people type (ISO, `today`, `now`, -2h / +30m), the one window of sane times,
and total conversions so that no stored value, however extreme, can crash a read.

The window (SPEC §6 "Input limits"): a time a user or an import supplies lies between
1970-01-01T00:00Z and one day ahead of the server's clock. A deadline (a due time) is a promise,
not an observation, so it may lie up to `DUE_AHEAD` ahead. The clock is passed in.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo

from core.errors import ValidationError

_OFFSET = re.compile(r"^([+-])(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

#: the earliest time anyone may supply
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: how far ahead of the server's clock an event time may lie (clock skew between machines)
AHEAD = timedelta(days=1)
#: how far ahead a due time (override --due) may lie
DUE_AHEAD = timedelta(days=366)

# the range `from_epoch` clamps to: a day inside datetime's own, so shifting to a local zone still fits
_MIN = datetime(1, 1, 2, tzinfo=UTC)
_MAX = datetime(9999, 12, 30, tzinfo=UTC)
_MIN_S = _MIN.timestamp()
_MAX_S = _MAX.timestamp()


def _stamp(t: datetime) -> str:
    u = t.astimezone(UTC)
    return f"{u.year:04d}-{u:%m-%dT%H:%M}Z"  # %Y writes year 1 as "1"


def check_window(t: datetime, now: datetime, *, field: str = "time", ahead: timedelta = AHEAD) -> datetime:
    """`t` itself when it lies in 1970-01-01 … now + `ahead`; else a refusal naming the field and the window."""
    latest = now + ahead
    if t < EARLIEST or t > latest:
        raise ValidationError(
            f"{field} {_stamp(t)} is outside the accepted window {_stamp(EARLIEST)} … {_stamp(latest)}"
            f" (not before 1970, at most {_ahead_text(ahead)} ahead of the server clock)", field=field)
    return t


def check_epoch(seconds: float, now: datetime, *, field: str = "time", ahead: timedelta = AHEAD) -> float:
    """`check_window` for a time given as epoch seconds (imports, arrivals files); NaN and ±inf are refused too."""
    if not math.isfinite(seconds):
        raise ValidationError(f"{field} {seconds!r} is not a time", field=field)
    check_window(from_epoch(seconds), now, field=field, ahead=ahead)
    return seconds


def _ahead_text(ahead: timedelta) -> str:
    days = ahead.days
    return f"{days} day{'s' if days != 1 else ''}" if days else f"{int(ahead.total_seconds())} s"


def parse_when(text: str, now: datetime, local: tzinfo = UTC, *, field: str = "time",
               ahead: timedelta | None = AHEAD) -> datetime:
    """An aware UTC datetime inside `check_window` (skipped when `ahead` is None); naive input is read in
    `local` (the server's zone). Never raises anything but ValidationError, whatever the text."""
    t = (text or "").strip().lower()
    if not t:
        raise ValidationError(f"{field} is empty", field=field)
    try:
        parsed = _parse(text, t, now, local, field)
    except (OverflowError, ValueError, OSError):
        raise ValidationError(f"{field} {text.strip()!r} is outside the accepted window (not before 1970, "
                              f"at most {_ahead_text(ahead or AHEAD)} ahead of the server clock)", field=field) from None
    return parsed if ahead is None else check_window(parsed, now, field=field, ahead=ahead)


def _parse(text: str, t: str, now: datetime, local: tzinfo, field: str) -> datetime:
    """The parse itself; arithmetic past datetime's range raises OverflowError, which the caller turns into a refusal."""
    if t == "now":
        return now
    if t in ("today", "yesterday"):
        day = now.astimezone(local).replace(hour=0, minute=0, second=0, microsecond=0)
        if t == "yesterday":
            day -= timedelta(days=1)
        return day.astimezone(UTC)
    m = _OFFSET.match(t)
    if m:
        sign, qty, unit = m.groups()
        delta = timedelta(**{_UNITS[unit]: float(qty)})
        return now + delta if sign == "+" else now - delta
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{field} {text!r} is not a time (use ISO like 2026-11-26T14:00, 'today', or -2h / +30m)", field=field
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local)
    return parsed.astimezone(UTC)


def from_epoch(seconds: float, tz: tzinfo = UTC) -> datetime:
    """Epoch seconds as an aware datetime, for ANY stored float: values past datetime's range (year 10000,
    ±inf, NaN) are clamped to its ends instead of raising, so a read never crashes on a stored value."""
    s = float(seconds)
    if not s >= _MIN_S:  # also NaN
        return _MIN.astimezone(tz)
    if s > _MAX_S:
        return _MAX.astimezone(tz)
    return datetime.fromtimestamp(s, tz)


def shift(t: datetime, seconds: float) -> datetime:
    """`t` moved by `seconds`, clamped to the range `from_epoch` reads back (never an OverflowError)."""
    return from_epoch(t.timestamp() + float(seconds), t.tzinfo or UTC)
