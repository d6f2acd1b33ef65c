"""Desk hours (core.calendar): the pure arithmetic of open time, with Hypothesis where a property fits.

The properties are the issue's: due_at never goes backwards as received_at moves forward, and open
time between two instants adds up across any split; plus add-then-measure round-trips, and a
brute-force day-by-day sum agrees with the week-at-a-time fast path, in UTC and across DST changes.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import ALWAYS_OPEN, WEEKDAYS, CalendarError, parse_calendar

DEFAULT = parse_calendar(None)
#: split hours, a Saturday morning and holidays, on a zone with DST (the US changes at 02:00 local)
NEW_YORK = parse_calendar({
    "zone": "America/New_York",
    "hours": {"mon": ["08:00-12:00", "13:00-18:00"], "tue": ["00:00-03:30", "08:00-18:00"], "wed": "08:00-18:00",
              "thu": ["08:00-18:00"], "fri": ["08:00-17:00"], "sat": ["01:00-04:00", "09:00-12:00"],
              "sun": ["01:30-02:30"]},
    "holidays": [date(2026, 11, 26), "2026-12-25", date(2027, 1, 1)],
})
#: open round the clock on weekdays in Berlin, so a DST day's open time is 23 h or 25 h
BERLIN = parse_calendar({"zone": "Europe/Berlin", "hours": {d: ["00:00-24:00"] for d in WEEKDAYS}})
CALENDARS = [DEFAULT, NEW_YORK, BERLIN, ALWAYS_OPEN]

instants = st.floats(min_value=datetime(1970, 1, 1, tzinfo=UTC).timestamp(),
                     max_value=datetime(2100, 12, 31, tzinfo=UTC).timestamp(), allow_nan=False)
near = st.floats(min_value=0, max_value=90 * 86400.0)
cals = st.sampled_from(CALENDARS)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_a_p2_received_friday_17_00_is_due_monday_11_00() -> None:
    fri = utc(2026, 11, 27, 17)
    assert fri.strftime("%a") == "Fri"
    assert DEFAULT.add_open_time(fri, timedelta(hours=4)) == utc(2026, 11, 30, 11)
    assert DEFAULT.open_time_between(fri, utc(2026, 11, 30, 11)) == timedelta(hours=4)


def test_24x7_is_wall_time() -> None:
    t = utc(2026, 11, 27, 17)
    assert ALWAYS_OPEN.add_open_time(t, timedelta(hours=4)) == utc(2026, 11, 27, 21)
    assert parse_calendar("24x7") is ALWAYS_OPEN


def test_dst_days_have_an_hour_less_or_more_of_open_time() -> None:
    z = ZoneInfo("Europe/Berlin")
    spring, autumn = datetime(2026, 3, 29, tzinfo=z), datetime(2026, 10, 25, tzinfo=z)  # the changes' Sundays
    assert BERLIN.open_time_between(spring, spring + timedelta(days=1)) == timedelta(hours=23)
    assert BERLIN.open_time_between(autumn, autumn + timedelta(days=1)) == timedelta(hours=25)
    assert BERLIN.open_time_between(spring, spring + timedelta(days=7)) == timedelta(hours=7 * 24 - 1)
    assert BERLIN.add_open_time(spring, timedelta(hours=23)) == spring + timedelta(days=1)
    ny = parse_calendar({"zone": "America/New_York", "hours": {d: ["00:00-24:00"] for d in WEEKDAYS}})
    zn = ZoneInfo("America/New_York")
    for day, hours in [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 11, 2), 24)]:
        a = datetime(day.year, day.month, day.day, tzinfo=zn)
        assert ny.open_time_between(a, a + timedelta(days=1)) == timedelta(hours=hours), day


def test_the_desk_says_when_it_opens() -> None:
    assert DEFAULT.closed_text(utc(2026, 11, 28, 9)) == "desk closed — opens Mon 08:00"
    assert DEFAULT.closed_text(utc(2026, 11, 26, 18)) == "desk closed — opens Fri 08:00"
    assert DEFAULT.closed_text(utc(2026, 11, 26, 17, 59)) is None
    assert ALWAYS_OPEN.closed_text(utc(2026, 11, 28, 3)) is None
    assert NEW_YORK.closed_text(utc(2026, 11, 26, 15)).endswith("America/New_York")  # Thanksgiving


@given(cals, instants, near, near)
@settings(max_examples=300, deadline=None)
def test_open_time_adds_up_across_any_split(cal, a, x, y) -> None:  # noqa: ANN001
    b, c = a + x, a + x + y
    assert cal.open_s(a, c) == pytest.approx(cal.open_s(a, b) + cal.open_s(b, c), abs=1e-3)
    assert cal.open_s(c, a) == -cal.open_s(a, c)
    assert 0 <= cal.open_s(a, b) <= x + 1e-6


@given(cals, instants, near, st.floats(min_value=0, max_value=40 * 86400.0))
@settings(max_examples=300, deadline=None)
def test_due_at_never_goes_backwards_as_received_at_moves_forward(cal, t, dt, sla) -> None:  # noqa: ANN001
    assert cal.add_open_s(t, sla) <= cal.add_open_s(t + dt, sla)
    assert cal.add_open_s(t, sla) >= t + (0 if cal is not ALWAYS_OPEN else sla)


@given(cals, instants, st.floats(min_value=0, max_value=400 * 86400.0))
@settings(max_examples=300, deadline=None)
def test_add_open_time_then_open_time_between_round_trips(cal, t, d) -> None:  # noqa: ANN001
    due = cal.add_open_s(t, d)
    assert cal.open_s(t, due) == pytest.approx(d, abs=1e-3)
    # earliest: a second sooner, the open time is not there yet
    if d >= 1:
        assert cal.open_s(t, due - 1) < d


def _brute(cal, a: float, b: float) -> float:  # noqa: ANN001
    """Day by day, no fast path: the clamped overlap of [a, b] with every day's open intervals."""
    na, nb = cal._day_of(a), cal._day_of(b)
    return sum(max(0.0, min(b, e) - max(a, s)) for n in range(na - 1, nb + 2) for s, e in cal._intervals(n))


@given(st.sampled_from([DEFAULT, NEW_YORK, BERLIN]), instants, st.floats(min_value=0, max_value=120 * 86400.0))
@settings(max_examples=200, deadline=None)
def test_the_week_fast_path_agrees_with_walking_day_by_day(cal, a, x) -> None:  # noqa: ANN001
    assert cal.open_s(a, a + x) == pytest.approx(_brute(cal, a, a + x), abs=1e-3)


def test_total_on_the_edges_of_the_range() -> None:
    for cal in CALENDARS:
        for t in (utc(1970, 1, 1), utc(2100, 12, 31, 23, 59), utc(1969, 12, 31, 23)):
            due = cal.add_open_time(t, timedelta(days=30))
            assert due >= t
            assert cal.open_time_between(t, due) >= timedelta(0)


def test_decades_stay_fast() -> None:
    """O(days) at most: whole weeks count in one step, so forty years cost about what a week does."""
    import time
    t0 = time.perf_counter()
    for cal in (DEFAULT, NEW_YORK):
        for _ in range(200):
            cal.open_s(utc(1980, 1, 1).timestamp(), utc(2020, 1, 1).timestamp())
            cal.add_open_s(utc(1980, 1, 1).timestamp(), 20 * 365 * 86400.0 * 0.2)
    assert time.perf_counter() - t0 < 5.0  # 800 calls; generous for a loaded 2-core machine


@pytest.mark.parametrize(("value", "key", "words"), [
    ({"hours": {"mon": ["09:00-08:00"]}}, "calendar.hours.mon", "ends before it starts"),
    ({"hours": {"tue": ["08:00-12:00", "11:00-13:00"]}}, "calendar.hours.tue", "overlaps"),
    ({"hours": {"funday": ["08:00-12:00"]}}, "calendar.hours.funday", "unknown weekday"),
    ({"zone": "Mars/Olympus_Mons"}, "calendar.zone", "unknown time zone"),
    ({"hours": {"wed": ["8-12"]}}, "calendar.hours.wed", "not an interval"),
    ({"hours": {"thu": ["08:00-25:00"]}}, "calendar.hours.thu", "not a time of day"),
    ({"holidays": ["christmas"]}, "calendar.holidays[0]", "not a date"),
    ({"hours": {}}, "calendar.hours", "never open"),
    ({"opening": {}}, "calendar.opening", "unknown key"),
    ("9to5", "calendar", "24x7"),
])
def test_bad_calendars_name_their_key(value, key, words) -> None:  # noqa: ANN001
    with pytest.raises(CalendarError) as e:
        parse_calendar(value)
    assert e.value.key == key and words in str(e.value)
