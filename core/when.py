"""Parsing the times people type: ISO dates and times, `today`, `now`, and offsets like -2h or +30m."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from core.errors import ValidationError

_OFFSET = re.compile(r"^([+-])(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str, now: datetime, local: tzinfo = UTC, *, field: str = "time") -> datetime:
    """An aware UTC datetime; naive input is read in `local` (the server's zone)."""
    t = (text or "").strip().lower()
    if not t:
        raise ValidationError(f"{field} is empty", field=field)
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
