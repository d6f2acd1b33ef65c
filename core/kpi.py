"""The KPIs of SPEC §2, as pure functions over plain rows the store hands in.

Conventions, for every function here:
- times in rows are epoch seconds (floats, UTC), as stored; `now` and the window are aware datetimes;
- the window is half-open: `since <= t < until`;
- a percentage is `100 × numerator ÷ denominator`, rounded to 1 decimal, and `None` when the
  denominator is 0 (no data is not 0 %);
- a percentile is the nearest-rank percentile: sort the n values ascending and take the value at
  1-based rank ceil(p × n) (so p50 of [10, 20, 30, 40] is 20, p90 of it is 40); `None` when n = 0.
- rows are mappings (a `sqlite3.Row`, a dict): only the named keys are read;
- flow KPIs take the rows of the window only (the store selects them by an index range on the
  named time column); a row may carry `n`, a count standing for n identical rows (the store may
  group rows that only feed counts);
- a row may carry `history` (1: imported from a record of completed sales, `import --history`).
  History says what was sold, shipped and returned, and by which channel, but not how this desk
  worked it: cycle time, SLA met, touchless, hold rate, cancellation rate, handling time, return
  cycle time and refund time count live rows only, so over a period of history alone they are
  None (unknown), never 0 or the years since. Throughput, electronic share, units shipped and
  returned, and the reason mix count history too.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from core.enums import Channel, OrderState, Priority, ReturnState
from core.triage import effective_due, humanize

if TYPE_CHECKING:
    from core.calendar import Calendar

Row = Mapping[str, Any]

OPEN_ORDER_STATES = tuple(s.value for s in OrderState if s.open)
OPEN_RETURN_STATES = tuple(s.value for s in ReturnState if s.open)
ELECTRONIC = tuple(c.value for c in Channel if c.electronic)

#: the keys of `orderq kpi --json`, exactly as SPEC §2 names them
ORDER_KEYS = (
    "queue_depth", "in_progress", "on_hold", "oldest_wait_s", "sla_breached_open", "sla_at_risk",
    "cycle_time_p50_s", "cycle_time_p90_s", "sla_met_pct", "released", "touchless_pct",
    "electronic_share_pct", "hold_rate_pct", "cancel_rate_pct",
)
#: beyond SPEC §2: cycle time of the orders a rep handled (touchless ones take no time, so
#: with many of them the SPEC's p50 reads "0s" however slow the desk is)
EXTRA_ORDER_KEYS = ("cycle_time_rep_p50_s", "cycle_time_rep_p90_s")
RETURN_KEYS = (
    "open", "pending_approval", "return_rate_pct", "cycle_time_p50_s", "refund_time_p50_s",
    "by_reason", "by_disposition",
)


#: the longest KPI window: two years (the per-hour breakdown then has at most ~17,600 buckets;
#: an imported year of history fits). Longer windows are refused, not computed.
MAX_WINDOW = timedelta(days=732)
#: the text and HTML reports chart releases per hour for windows up to this many hours (7 days)
CHART_MAX_HOURS = 7 * 24


@dataclass(frozen=True)
class Window:
    """[since, until): the period the flow KPIs (releases, arrivals, returns resolved) look at,
    at most `MAX_WINDOW` long."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.until <= self.since:
            from core.errors import ValidationError

            raise ValidationError("the window is empty: --until must be after --since", field="until")
        if self.until - self.since > MAX_WINDOW:
            from core.errors import ValidationError

            raise ValidationError(f"the window is {(self.until - self.since).days} days long; a KPI window is at most "
                                  f"{MAX_WINDOW.days} days", field="since")
        object.__setattr__(self, "lo", self.since.timestamp())
        object.__setattr__(self, "hi", self.until.timestamp())

    lo: float = field(init=False, repr=False, compare=False)  # since, as epoch seconds
    hi: float = field(init=False, repr=False, compare=False)  # until, as epoch seconds

    def has(self, t: float | None) -> bool:
        return t is not None and self.lo <= t < self.hi


def today(now: datetime, local: tzinfo) -> Window:
    """The default window: local midnight today until local midnight tomorrow."""
    start = now.astimezone(local).replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=2)).replace(hour=0)  # DST-safe next midnight
    return Window(start, end)


# ---- small helpers -------------------------------------------------------------------------
def pct(num: float, den: float) -> float | None:
    """100 × num ÷ den, 1 decimal; None when den is 0."""
    if not den:
        return None
    return round(100.0 * num / den, 1)


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest rank: the value at 1-based rank ceil(p × n) of the sorted values; None when empty."""
    xs = sorted(values)
    if not xs:
        return None
    rank = max(1, math.ceil(p * len(xs) - 1e-9))
    return round(float(xs[min(rank, len(xs)) - 1]), 1)


def _n(r: Row) -> int:
    """The weight of a row: its `n` when the store grouped identical rows, else 1."""
    try:
        return int(r["n"])
    except (KeyError, IndexError):
        return 1


def is_history(r: Row) -> bool:
    """Imported history (see the module doc); rows without the key are live."""
    try:
        return bool(r["history"])
    except (KeyError, IndexError):
        return False


def live(rows: Iterable[Row]) -> list[Row]:
    """The rows that record this desk's own work (not imported history)."""
    return [r for r in rows if not is_history(r)]


def mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return round(sum(xs) / len(xs), 1) if xs else None


# ---- orders: the live queue ----------------------------------------------------------------
def queue_depth(counts: Iterable[Row]) -> dict[str, int]:
    """Queue depth by class: the number of orders in state `queued`, per class P1..P4.

    Rows: {state, priority, n} (counts grouped by state and class). Every class is present (0 when none).
    """
    out = {p.value: 0 for p in Priority}
    for r in counts:
        if r["state"] == OrderState.QUEUED.value and r["priority"] in out:
            out[r["priority"]] += int(r["n"])
    return out


def state_count(counts: Iterable[Row], state: str) -> int:
    """In progress / on hold: the number of orders in that state now. Rows: {state, priority, n}."""
    return sum(int(r["n"]) for r in counts if r["state"] == state)


def oldest_wait_s(queued_received_at: Iterable[float | None], now: datetime) -> float | None:
    """Oldest wait: now − min(received_at) over orders in `queued`; None when the queue is empty."""
    ts = [float(t) for t in queued_received_at if t is not None]
    if not ts:
        return None
    return round(max(0.0, now.timestamp() - min(ts)), 1)


def sla_breached_open(open_rows: Iterable[Row], now: datetime, cal: Calendar) -> int:
    """Breached open: orders in queued / in_progress / on_hold whose effective due time is past.

    Formula: count of open rows with effective_due(row) < now (see `effective_due`).
    Rows: {state, due_at, hold_reason, hold_started_at}.
    """
    t = now.timestamp()
    return sum(1 for r in open_rows if r["state"] in OPEN_ORDER_STATES and effective_due(r, t, cal) < t)


def sla_at_risk(open_rows: Iterable[Row], now: datetime, at_risk: timedelta, cal: Calendar) -> int:
    """At risk: open orders not yet breached but due within `at_risk` (rules.queue.at_risk_minutes)
    of *open* time (the desk calendar): Friday 17:50 an order due Monday 08:10 is at risk.

    Formula: count of open rows with now ≤ effective_due(row) < at_risk_until(now).
    """
    t = now.timestamp()
    hi = at_risk_until(t, at_risk, cal)
    return sum(1 for r in open_rows if r["state"] in OPEN_ORDER_STATES and t <= effective_due(r, t, cal) < hi)


def at_risk_until(t: float, at_risk: timedelta, cal: Calendar) -> float:
    """The instant `at_risk` of open time after t: due times before it are at risk (the store
    pre-selects its candidates with it)."""
    return cal.add_open_s(t, at_risk.total_seconds())


# ---- orders: flow over the window ----------------------------------------------------------
def cycle_times(released_rows: Iterable[Row]) -> list[float]:
    """released_at − received_at, for every live order released in the window (history: unknown)."""
    return [float(r["released_at"]) - float(r["received_at"]) for r in live(released_rows)]


def cycle_time_p50_s(released_rows: Iterable[Row]) -> float | None:
    """Cycle Time, Customer Order Processing, median: p50 (nearest rank) of released_at − received_at
    over orders released in the window. Rows: {received_at, released_at} of those releases."""
    return percentile(cycle_times(released_rows), 0.5)


def cycle_time_p90_s(released_rows: Iterable[Row]) -> float | None:
    """Cycle time p90: p90 (nearest rank) of released_at − received_at over orders released in the window."""
    return percentile(cycle_times(released_rows), 0.9)


def rep_cycle_times(released_rows: Iterable[Row]) -> list[float]:
    """`cycle_times` of the releases a rep made (straight_through = 0)."""
    return cycle_times(r for r in released_rows if not r["straight_through"])


def cycle_time_rep_p50_s(released_rows: Iterable[Row]) -> float | None:
    """Rep-handled cycle time, median: p50 (nearest rank) of released_at − received_at over orders
    released in the window that were not straight-through (not in SPEC §2; shown beside touchless)."""
    return percentile(rep_cycle_times(released_rows), 0.5)


def cycle_time_rep_p90_s(released_rows: Iterable[Row]) -> float | None:
    """Rep-handled cycle time p90, as `cycle_time_rep_p50_s`."""
    return percentile(rep_cycle_times(released_rows), 0.9)


def sla_met_pct(released_rows: Iterable[Row]) -> float | None:
    """SLA met: 100 × #(released in window with released_at ≤ due_at) ÷ #(released in window).

    due_at already carries paused customer-hold time (added back at unhold). Rows: {released_at, due_at}.
    """
    rel = live(released_rows)
    return pct(sum(1 for r in rel if float(r["released_at"]) <= float(r["due_at"])), len(rel))


def released(released_rows: Iterable[Row]) -> int:
    """Throughput: the number of orders released in the window (straight-through included)."""
    return sum(1 for _ in released_rows)


def released_by_rep(released_rows: Iterable[Row]) -> dict[str, int]:
    """Throughput per rep: releases in the window grouped by released_by ('system' = straight-through),
    most first. Rows: {released_by}."""
    c = Counter(r["released_by"] or "?" for r in released_rows)
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def released_by_hour(released_rows: Iterable[Row], w: Window, local: tzinfo) -> dict[str, int]:
    """Throughput per hour: releases in the window per local clock hour, every hour of the window
    present (0 when none); keys are the local hour start, ISO 8601 with offset. Rows: {released_at}."""
    out: dict[str, int] = {}
    hour = w.since.astimezone(local).replace(minute=0, second=0, microsecond=0)
    keys: list[tuple[float, str]] = []
    while hour < w.until:
        keys.append((hour.timestamp(), hour.isoformat(timespec="minutes")))
        out[keys[-1][1]] = 0
        hour = (hour + timedelta(hours=1)).astimezone(local)
    los = [k[0] for k in keys]
    for r in released_rows:
        t = float(r["released_at"])
        i = bisect_right(los, t) - 1
        if i >= 0 and w.has(t):
            out[keys[i][1]] += 1
    return out


def per_hour(released_rows: Iterable[Row], pairs: Iterable[Row], w: Window, local: tzinfo) -> list[dict[str, Any]]:
    """One row per local clock hour of the window: releases in that hour (`released_by_hour`) and the
    average handling time (claim→release) of the reps' releases that ended in it."""
    counts = released_by_hour(released_rows, w, local)
    keys = list(counts)
    los = [datetime.fromisoformat(k).timestamp() for k in keys]
    times: dict[str, list[float]] = defaultdict(list)
    for r in pairs:
        t = float(r["released_at"])
        i = bisect_right(los, t) - 1
        if r["claimed_at"] is not None and i >= 0 and w.has(t):
            times[keys[i]].append(max(0.0, t - float(r["claimed_at"])))
    return [{"hour": k, "released": n, "avg_handling_s": mean(times.get(k, []))} for k, n in counts.items()]


def hourly_counts(times: Iterable[float], end: datetime, hours: int) -> list[int]:
    """Counts per hour for the `hours` whole hours ending at `end` (oldest first): the sparkline."""
    hi = end.timestamp()
    lo = hi - hours * 3600
    out = [0] * hours
    for t in times:
        if lo <= t < hi:
            out[min(hours - 1, int((t - lo) // 3600))] += 1
    return out


def touchless_pct(released_rows: Iterable[Row]) -> float | None:
    """Touchless: 100 × #(released in window with straight_through = 1) ÷ #(released in window), live only."""
    rel = live(released_rows)
    return pct(sum(1 for r in rel if r["straight_through"]), len(rel))


def electronic_share_pct(received_rows: Iterable[Row]) -> float | None:
    """Electronic share: 100 × #(received in window with channel ∈ {online, edi}) ÷ #(received in window).
    Rows: {channel[, n]} of the orders received in the window."""
    rec = list(received_rows)
    return pct(sum(_n(r) for r in rec if r["channel"] in ELECTRONIC), sum(_n(r) for r in rec))


def hold_rate_pct(received_rows: Iterable[Row]) -> float | None:
    """Hold rate: 100 × #(received in window that were ever on hold) ÷ #(received in window).

    "Ever on hold": held at entry (auto credit/stock hold) or put on hold later, whatever the state
    now (the store derives it from the hold columns and hold/unhold events). Rows: {ever_held[, n]}.
    """
    rec = live(received_rows)
    return pct(sum(_n(r) for r in rec if r["ever_held"]), sum(_n(r) for r in rec))


def cancel_rate_pct(received_rows: Iterable[Row]) -> float | None:
    """Cancellation rate: 100 × #(received in window and now `cancelled`) ÷ #(received in window).

    A cohort rate: the same orders as the hold rate and electronic share, so the three compare.
    Rows: {state[, n]}.
    """
    rec = live(received_rows)
    return pct(sum(_n(r) for r in rec if r["state"] == OrderState.CANCELLED.value), sum(_n(r) for r in rec))


# ---- per rep -------------------------------------------------------------------------------
def handling_times(pairs: Iterable[Row]) -> dict[str, list[float]]:
    """Handling time per rep: release.at − claim.at for each release in the window by a rep, where the
    claim is the claim event carrying the same token. Rows: {rep, claimed_at, released_at}."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in pairs:
        if r["claimed_at"] is not None:
            out[r["rep"]].append(max(0.0, float(r["released_at"]) - float(r["claimed_at"])))
    return dict(out)


def per_rep(released_rows: Iterable[Row], pairs: Iterable[Row], claims: Iterable[Row]) -> list[dict[str, Any]]:
    """One row per rep: released in the window, average handling time (mean of claim→release over the
    window's releases by that rep), and claims held now (rows {claimed_by, number})."""
    rel = released_by_rep(live(released_rows))
    rel.pop("system", None)
    aht = {rep: mean(xs) for rep, xs in handling_times(pairs).items()}
    held: dict[str, list[str]] = defaultdict(list)
    for c in claims:
        held[c["claimed_by"]].append(c["number"])
    reps = sorted(set(rel) | set(aht) | set(held))
    return [
        {"rep": rep, "released": rel.get(rep, 0), "avg_handling_s": aht.get(rep), "claims": len(held.get(rep, [])),
         "holding": held.get(rep, [])}
        for rep in sorted(reps, key=lambda r: (-rel.get(r, 0), r))
    ]


def pct_text(v: float | None) -> str:
    """A percentage figure as the reports and the wallboard print it; '—' for None (nothing to count)."""
    return "—" if v is None else f"{v:.1f} %"


def duration_text(seconds: float | None) -> str:
    """12s, 7m 05s under an hour; 3h 20m, 2d 4h beyond (as the queue's `humanize`); '—' for None."""
    if seconds is None:
        return "—"
    if not abs(seconds) < 3600:  # also ±inf / NaN from an extreme stored time: humanize is total
        return ("-" if seconds < 0 else "") + humanize(seconds)
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m {s:02d}s" if m else f"{s}s"
