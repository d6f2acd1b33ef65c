"""The desk's open hours as a time axis: SPEC §2's default calendar, Mon–Fri 08:00–18:00 UTC.

`open_seconds(t)` counts only open time since a fixed Monday, so a night or a weekend takes no
room on this axis; `wall_time(u)` maps back. The demo generates its history on this axis and the
simulator replays a desk's history on it: that way a desk that works ten hours a day is compared
with reps who work ten hours a day, and the same history gives the same numbers whatever weekday
and hour it is generated at. (The rules file has no calendar yet; when it gains one, this module is
where it plugs in.)
Pure: numbers in, numbers out.
"""
from __future__ import annotations

OPEN_H = 8
CLOSE_H = 18
DAY_S = 86_400
OPEN_DAY_S = (CLOSE_H - OPEN_H) * 3600       # open seconds in one desk day
OPEN_WEEK_S = 5 * OPEN_DAY_S                 # Mon–Fri
_EPOCH = 4 * DAY_S                           # Monday 1970-01-05 00:00 UTC (1970-01-01 was a Thursday)


def open_seconds(t: float) -> float:
    """Open desk seconds from the reference Monday to epoch time `t` (flat while the desk is closed)."""
    week, rest = divmod(t - _EPOCH, 7 * DAY_S)
    day, s = divmod(rest, DAY_S)
    today = min(max(s - OPEN_H * 3600, 0.0), OPEN_DAY_S) if day < 5 else 0.0
    return week * OPEN_WEEK_S + min(day, 5) * OPEN_DAY_S + today


def wall_time(u: float) -> float:
    """The epoch time of open second `u`; a day's end maps to the next opening (08:00)."""
    week, rest = divmod(u, OPEN_WEEK_S)
    day, s = divmod(rest, OPEN_DAY_S)
    return _EPOCH + week * 7 * DAY_S + day * DAY_S + OPEN_H * 3600 + s


def closing_time(u: float) -> float:
    """Like `wall_time`, but a day's end maps to that day's closing (18:00), not the next opening."""
    if u % OPEN_DAY_S == 0:
        return wall_time(u - OPEN_DAY_S) + OPEN_DAY_S
    return wall_time(u)


def is_open(t: float) -> bool:
    """Is the desk open at epoch time `t`?"""
    day, s = divmod(t - _EPOCH, DAY_S)
    return day % 7 < 5 and OPEN_H * 3600 <= s < CLOSE_H * 3600


def day_start(u: float) -> float:
    """The open second at which the desk day holding `u` opened."""
    return u - u % OPEN_DAY_S


def night_before(u: float) -> tuple[float, float]:
    """(start, length) in epoch seconds of the closed stretch before the desk day holding `u`:
    14 h before Tuesday to Friday, the weekend's 62 h before Monday."""
    opening = wall_time(day_start(u))
    previous_close = closing_time(day_start(u))
    return previous_close, opening - previous_close
