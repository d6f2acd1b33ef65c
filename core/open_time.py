"""Open time as an axis: the rules' calendar (core.calendar) laid out so that only open seconds take room.

The demo generates a desk's history on this axis (arrivals, claims, holds, releases, shipments, returns
are open seconds, mapped to the wall clock only when an event is written), so nobody works while the
desk is closed and the same history comes out whatever hour it is made at. `u` is open seconds from
`now` (negative in the past). The stretches are read from the calendar once, on the span the demo
touches (grown on demand), and looked up with a bisect: a demo of 100,000 orders maps millions of
instants, which Calendar.add_open_s (tens of µs each, walking from a day) would make slow.
Pure: numbers in, numbers out.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from core.calendar import Calendar

_WEEK = 7 * 86400.0


class OpenTimeline:
    """Open seconds from `now` <-> epoch seconds, under one calendar."""

    def __init__(self, calendar: Calendar, now: float) -> None:
        self.cal = calendar
        self.now = now
        self._lo = self._hi = now
        self._starts: list[float] = []   # each open stretch: its wall start and end …
        self._ends: list[float] = []
        self._u0: list[float] = []       # … and its start in open seconds from now
        self._u1: list[float] = []
        self._cover(now - _WEEK, now + _WEEK)

    # ---- the table -----------------------------------------------------------------------
    def _cover(self, lo: float, hi: float) -> None:
        """Read the stretches of [lo, hi] (at least) from the calendar, and lay them out from now."""
        lo, hi = min(lo, self._lo), max(hi, self._hi)
        if (lo, hi) == (self._lo, self._hi) and self._starts:
            return
        merged: list[tuple[float, float]] = []
        for a, b in self.cal.open_intervals(lo, hi):  # stretches that touch (24:00 and 00:00) are one
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        self._lo, self._hi = lo, hi
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]
        before = sum(max(0.0, min(b, self.now) - a) for a, b in merged)  # open seconds from lo to now
        u = -before
        self._u0, self._u1 = [], []
        for a, b in merged:
            self._u0.append(u)
            u += b - a
            self._u1.append(u)

    def _grow_for_u(self, u: float) -> None:
        """Widen the table until it holds open second u (doubling the span read each time)."""
        span = _WEEK
        while not (self._u0 and self._u0[0] <= u <= self._u1[-1]):
            if span > 4000 * _WEEK * 52:  # a calendar that is never open has nothing to lay out
                raise ValueError("the calendar has no open time")
            span *= 2
            if not self._u0 or u < self._u0[0]:
                self._cover(self._lo - span, self._hi)
            else:
                self._cover(self._lo, self._hi + span)

    # ---- the axis ------------------------------------------------------------------------
    def u(self, t: float) -> float:
        """Open seconds from now to epoch time t (negative before now; flat while the desk is closed)."""
        if not self._lo <= t <= self._hi:
            span = max(abs(t - self.now) * 1.5, _WEEK)
            self._cover(self.now - span if t < self._lo else self._lo, self.now + span if t > self._hi else self._hi)
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return self._u0[0] if self._u0 else 0.0
        return self._u0[i] + min(t, self._ends[i]) - self._starts[i]

    def at(self, u: float) -> float:
        """The epoch time of open second u; the end of a stretch maps to its close (18:00), not the next opening."""
        self._grow_for_u(u)
        i = bisect_left(self._u1, u)
        return self._starts[i] + (u - self._u0[i])

    def stretch(self, u: float) -> tuple[float, float]:
        """The open stretch holding open second u (at a boundary, the one it closes), in open seconds."""
        self._grow_for_u(u)
        i = bisect_left(self._u1, u)
        return self._u0[i], self._u1[i]

    def closed_before(self, u: float) -> tuple[float, float]:
        """(start, length) in epoch seconds of the closed stretch before the open stretch holding u: a night,
        a weekend, a holiday, a lunch break; (the instant of u, 0) when the desk never closes (24x7)."""
        if self.cal.always_open:
            return self.at(u), 0.0
        lo, _hi = self.stretch(u)
        self._grow_for_u(lo - 1.0)  # the stretch before it is in the table too
        i = bisect_left(self._u1, u)
        return self._ends[i - 1], self._starts[i] - self._ends[i - 1]

    def is_open(self, t: float) -> bool:
        return self.cal.is_open(t)
