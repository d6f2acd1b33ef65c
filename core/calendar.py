"""Desk hours: the SLA clock runs only while the desk is open (issue 13, item 4).

A `Calendar` answers two questions, both total (any instant from 1970 to 2100 and beyond, never
raising) and exact across daylight-saving changes in its zone:

- `open_s(a, b)`: how many seconds of open time lie between two instants (negative when b < a, so
  it adds up across any split: open(a, c) == open(a, b) + open(b, c));
- `add_open_s(t, d)`: the earliest instant at which `d` seconds of open time have passed since t.

Opening hours are wall-clock times in the calendar's zone; open time is counted in real seconds,
so a day whose open hours span a DST change has an hour more or less of them. The work is O(days)
at most: whole weeks are counted from the nominal weekly total (holidays subtracted with a bisect,
DST days corrected from a per-year list), and only the ragged ends are walked day by day.

Plain Python, no pydantic: the queue's first paint reads the calendar before the rules are
validated (README "Start-up"); `parse_calendar` is the one validator both paths use.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.when import from_epoch

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH = date(1970, 1, 1)  # day index 0, a Thursday
_EPOCH_WEEKDAY = 3
_DAY = 86400.0
_HHMM = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
#: instants are clamped into this range, so no datetime conversion can overflow
_MIN_T = datetime(1900, 1, 2, tzinfo=timezone.utc).timestamp()
_MAX_T = datetime(9000, 1, 1, tzinfo=timezone.utc).timestamp()



def _clamp(t: float) -> float:
    """Any stored float (±inf, NaN, year 10000) as an instant the arithmetic can take."""
    if not t >= _MIN_T:  # also NaN
        return _MIN_T
    return min(t, _MAX_T)


Interval = tuple[int, int]  # minutes from local midnight: [start, end), end ≤ 1440


class CalendarError(ValueError):
    """A bad calendar in the rules file; `key` is the dotted key to name (e.g. calendar.hours.mon)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class Calendar:
    """Opening hours per weekday in one zone, minus holidays; `always_open` is the 24x7 desk."""

    __slots__ = ("zone", "hours", "holidays", "always_open", "_tz", "_fixed", "_nominal", "_week",
                 "_partial", "_hol_days", "_hol_prefix", "_days", "_corr_years")

    def __init__(self, zone: str = "UTC", hours: Mapping[int, Iterable[Interval]] | None = None,
                 holidays: Iterable[date] = (), *, always_open: bool = False) -> None:
        self.zone = zone
        self.always_open = always_open
        self.hours: tuple[tuple[Interval, ...], ...] = tuple(
            tuple(sorted((hours or {}).get(w, ()))) for w in range(7))
        self.holidays = frozenset(holidays)
        self._tz = timezone.utc if zone == "UTC" else ZoneInfo(zone)
        self._fixed = zone == "UTC"
        self._nominal = [sum(e - s for s, e in day) * 60.0 for day in self.hours]
        self._week = sum(self._nominal)
        # _partial[r]: nominal open seconds of the r days that follow a week boundary (day index 7k)
        self._partial = [0.0]
        for i in range(7):
            self._partial.append(self._partial[-1] + self._nominal[(_EPOCH_WEEKDAY + i) % 7])
        self._hol_days = sorted((h - _EPOCH).days for h in self.holidays)
        self._hol_prefix = [0.0]
        for n in self._hol_days:
            self._hol_prefix.append(self._hol_prefix[-1] + self._nominal[(n + _EPOCH_WEEKDAY) % 7])
        self._days: dict[int, tuple[tuple[float, float], ...]] = {}
        self._corr_years: dict[int, tuple[list[int], list[float]]] = {}

    def __repr__(self) -> str:
        if self.always_open:
            return "Calendar('24x7')"
        return f"Calendar({self.zone!r}, {len(self.holidays)} holidays)"

    # ---- one day --------------------------------------------------------------------------
    def _weekday(self, n: int) -> int:
        return (n + _EPOCH_WEEKDAY) % 7

    def _day_of(self, t: float) -> int:
        if self._fixed:
            return int(t // _DAY)
        return (datetime.fromtimestamp(t, self._tz).date() - _EPOCH).days

    def _midnight(self, n: int) -> datetime:
        d = _EPOCH + timedelta(days=n)
        return datetime(d.year, d.month, d.day, tzinfo=self._tz)

    def _intervals(self, n: int) -> tuple[tuple[float, float], ...]:
        """Day n's open intervals as epoch seconds (empty on a holiday). Wall times that DST skips
        are clamped so the intervals stay ordered and never overlap."""
        got = self._days.get(n)
        if got is not None:
            return got
        w = self._weekday(n)
        out: list[tuple[float, float]] = []
        if self.hours[w] and (_EPOCH + timedelta(days=n)) not in self.holidays:
            if self._fixed:
                base = n * _DAY
                out = [(base + s * 60.0, base + e * 60.0) for s, e in self.hours[w]]
            else:
                mid = self._midnight(n)
                prev = float("-inf")
                for s, e in self.hours[w]:
                    a = max(prev, (mid + timedelta(minutes=s)).timestamp())
                    b = max(a, (mid + timedelta(minutes=e)).timestamp())
                    out.append((a, b))
                    prev = b
        res = tuple(out)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[n] = res
        return res

    def _within(self, n: int, t: float) -> float:
        """Open seconds of day n before instant t."""
        return sum(max(0.0, min(t, b) - a) for a, b in self._intervals(n))

    def _day_total(self, n: int) -> float:
        return sum(b - a for a, b in self._intervals(n))

    # ---- whole days ------------------------------------------------------------------------
    def _nominal_prefix(self, n: int) -> float:
        q, r = divmod(n, 7)
        return q * self._week + self._partial[r]

    def _corrections(self, year: int) -> tuple[list[int], list[float]]:
        """DST days of one local year: their day indices and actual − nominal open seconds."""
        got = self._corr_years.get(year)
        if got is not None:
            return got
        days: list[int] = []
        corr: list[float] = []
        if not self._fixed and 1900 < year < 9000:
            start = (date(year, 1, 1) - _EPOCH).days
            end = (date(year + 1, 1, 1) - _EPOCH).days
            prev = self._midnight(start).utcoffset()
            for n in range(start, end):
                nxt = self._midnight(n + 1).utcoffset()
                if nxt != prev and self.hours[self._weekday(n)]:
                    c = self._day_total(n) - (0.0 if self._is_holiday(n) else self._nominal[self._weekday(n)])
                    if c:
                        days.append(n)
                        corr.append(c)
                prev = nxt
        self._corr_years[year] = (days, corr)
        return days, corr

    def _is_holiday(self, n: int) -> bool:
        i = bisect_left(self._hol_days, n)
        return i < len(self._hol_days) and self._hol_days[i] == n

    def _days_open(self, na: int, nb: int) -> float:
        """Open seconds of the whole days na … nb−1 (na ≤ nb)."""
        total = self._nominal_prefix(nb) - self._nominal_prefix(na)
        total -= self._hol_prefix[bisect_left(self._hol_days, nb)] - self._hol_prefix[bisect_left(self._hol_days, na)]
        if not self._fixed and nb > na:
            ya = (_EPOCH + timedelta(days=na)).year
            yb = (_EPOCH + timedelta(days=nb - 1)).year
            for y in range(ya, yb + 1):
                days, corr = self._corrections(y)
                for n, c in zip(days, corr):
                    if na <= n < nb:
                        total += c
        return total

    # ---- the two questions -----------------------------------------------------------------
    def open_s(self, a: float, b: float) -> float:
        """Open seconds between instants a and b (epoch seconds); −open_s(b, a) when b < a."""
        a, b = _clamp(a), _clamp(b)
        if b < a:
            return -self.open_s(b, a)
        if self.always_open:
            return b - a
        na, nb = self._day_of(a), self._day_of(b)
        return self._days_open(na, nb) - self._within(na, a) + self._within(nb, b)

    def add_open_s(self, t: float, d: float) -> float:
        """The earliest instant at which d open seconds have passed since t (t itself for d ≤ 0)."""
        if not d > 0:  # also NaN
            return t
        t, d = _clamp(t), min(d, _MAX_T - _MIN_T)
        if self.always_open:
            return min(t + d, _MAX_T)
        if self._week <= 0:
            return _MAX_T  # never open: the deadline never comes (parse_calendar refuses this)
        n = self._day_of(t)
        left = d
        rest_today = self._day_total(n) - self._within(n, t)
        if rest_today < left:
            left -= rest_today
            n += 1
            # whole weeks first, estimated from the nominal weekly total; DST days can add to it
            # (hours that a fall-back repeats), so an overshoot halves the jump
            while left > 2 * self._week:
                k = int(left // self._week) - 1
                got = self._days_open(n, n + 7 * k)
                while got > left and k > 1:
                    k //= 2
                    got = self._days_open(n, n + 7 * k)
                if got > left:
                    break
                left -= got
                n += 7 * k
            while True:
                total = self._day_total(n)
                if total >= left:
                    break
                left -= total
                n += 1
                if n * _DAY > _MAX_T:
                    return _MAX_T
            t = -float("inf")
        for a, b in self._intervals(n):
            a = max(a, t)
            if b <= a:
                continue
            if b - a >= left:
                return a + left
            left -= b - a
        return self._intervals(n)[-1][1] if self._intervals(n) else t  # rounding: the day's last open second

    def open_time_between(self, a: datetime, b: datetime) -> timedelta:
        return timedelta(seconds=self.open_s(a.timestamp(), b.timestamp()))

    def add_open_time(self, t: datetime, d: timedelta) -> datetime:
        return from_epoch(self.add_open_s(t.timestamp(), d.total_seconds()), t.tzinfo or timezone.utc)

    def open_intervals(self, a: float, b: float) -> list[tuple[float, float]]:
        """The open stretches that meet [a, b], in time order and clipped to it (core.open_time lays
        them end to end as an axis); for the 24x7 desk, [a, b] itself."""
        a, b = _clamp(a), _clamp(b)
        if self.always_open:
            return [(a, b)] if b > a else []
        out = []
        for n in range(self._day_of(a), self._day_of(b) + 1):
            out.extend((max(x, a), min(y, b)) for x, y in self._intervals(n) if y > a and x < b and y > x)
        return out

    # ---- what the screens say ------------------------------------------------------------
    def is_open(self, t: float) -> bool:
        if self.always_open:
            return True
        return any(a <= t < b for a, b in self._intervals(self._day_of(t)))

    def next_open(self, t: float) -> float | None:
        """When the desk next opens after t, if it is closed at t (None if open, or never opens)."""
        if self.is_open(t) or self._week <= 0:
            return None
        n = self._day_of(t)
        for i in range(400):
            for a, _b in self._intervals(n + i):
                if a > t:
                    return a
        return None

    def closed_text(self, now: datetime) -> str | None:
        """"desk closed — opens Mon 08:00" while closed (in the calendar's zone), else None."""
        t = now.timestamp()
        nxt = self.next_open(t)
        if nxt is None:
            return None
        when = datetime.fromtimestamp(nxt, self._tz)
        zone = "" if self.zone == "UTC" else f" {self.zone}"
        day = f"{when:%a %H:%M}" if nxt - t < 6 * _DAY else f"{when:%a %d %b %H:%M}"
        return f"desk closed — opens {day}{zone}"


ALWAYS_OPEN = Calendar(always_open=True)
DEFAULT_HOURS: dict[int, tuple[Interval, ...]] = {w: ((8 * 60, 18 * 60),) for w in range(5)}


def _interval(key: str, text: Any) -> Interval:
    m = _HHMM.match(text) if isinstance(text, str) else None
    if not m:
        raise CalendarError(key, f"{text!r} is not an interval like \"08:00-18:00\"")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise CalendarError(key, f"{text!r} is not a time of day")
    s, e = h1 * 60 + m1, h2 * 60 + m2
    if e <= s:
        raise CalendarError(key, f"{text!r} ends before it starts (inverted hours)")
    return s, e


def _holiday(key: str, v: Any) -> date:
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise CalendarError(key, f"{v!r} is not a date like 2026-12-25")


def parse_calendar(value: Any) -> Calendar:
    """The rules' `calendar` value: "24x7", or a table {zone, hours = {mon = ["08:00-18:00"], …},
    holidays = [dates]}. Absent: Mon–Fri 08:00–18:00 UTC. A table without `hours` keeps those
    hours; with `hours`, unlisted weekdays are closed. Any problem raises CalendarError naming the key."""
    if value is None:
        return Calendar("UTC", DEFAULT_HOURS)
    if value == "24x7":
        return ALWAYS_OPEN
    if not isinstance(value, dict):
        raise CalendarError("calendar", f"{value!r}: expected \"24x7\" or a table (zone, hours, holidays)")
    for k in value:
        if k not in ("zone", "hours", "holidays"):
            raise CalendarError(f"calendar.{k}", "unknown key (known: zone, hours, holidays)")
    zone = value.get("zone", "UTC")
    if not isinstance(zone, str) or not zone:
        raise CalendarError("calendar.zone", f"{zone!r} is not a time zone name")
    if zone != "UTC":
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise CalendarError("calendar.zone", f"unknown time zone {zone!r}") from None
    hours: dict[int, tuple[Interval, ...]] = dict(DEFAULT_HOURS)
    if "hours" in value:
        raw = value["hours"]
        if not isinstance(raw, dict):
            raise CalendarError("calendar.hours", "expected a table of weekdays (mon … sun)")
        hours = {}
        for day, spans in raw.items():
            key = f"calendar.hours.{day}"
            if day not in WEEKDAYS:
                raise CalendarError(key, f"unknown weekday (known: {', '.join(WEEKDAYS)})")
            if isinstance(spans, str):
                spans = [spans]
            if not isinstance(spans, list):
                raise CalendarError(key, "expected a list of intervals like [\"08:00-12:00\", \"13:00-18:00\"]")
            got = sorted(_interval(key, s) for s in spans)
            for (s1, e1), (s2, e2) in zip(got, got[1:]):
                if s2 < e1:
                    raise CalendarError(key, f"{_fmt(s1, e1)} overlaps {_fmt(s2, e2)}")
            hours[WEEKDAYS.index(day)] = tuple(got)
        if not any(hours.values()):
            raise CalendarError("calendar.hours", "the desk is never open (give at least one interval)")
    raw_h = value.get("holidays", [])
    if not isinstance(raw_h, list):
        raise CalendarError("calendar.holidays", "expected a list of dates")
    holidays = [_holiday(f"calendar.holidays[{i}]", v) for i, v in enumerate(raw_h)]
    return Calendar(zone, hours, holidays)


def _fmt(s: int, e: int) -> str:
    return f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
