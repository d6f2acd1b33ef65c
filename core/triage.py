"""Triage: earliest deadline first on due_at, ties by class, tier, then value.

New high-priority work gets an early due_at, so it overtakes older low-priority work until
that older work's own deadline comes near; that is the whole policy, and it is explainable.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.enums import HoldReason, OrderState, Priority, Tier
from core.when import from_epoch

if TYPE_CHECKING:
    from core.calendar import Calendar
    from core.rules import Rules


@dataclass(frozen=True)
class Classification:
    priority: Priority
    source: str


def classify(rules: Rules, request_type: str, tier: Tier) -> Classification:
    """Class from the request type, raised by the customer's tier, never above P1."""
    base = rules.request_type(request_type).priority
    raise_by = rules.tiers.get(tier, 0)
    final = Priority.of_level(base.level - raise_by)
    if final == base:
        return Classification(base, f"type {request_type} → {base.value}")
    return Classification(
        final, f"type {request_type} → {base.value}, {tier.value.replace('_', ' ')} raises to {final.value}"
    )


def due_at(received_at: datetime, priority: Priority, rules: Rules, paused: timedelta | float = 0.0) -> datetime:
    """due_at = received_at + sla(class) of *open* time (the rules' calendar), with the open time
    paused on finished customer holds (a timedelta, or orders.paused_s as stored) added back. The
    one place a due time is made: entry, import, override, returns and the demo all come here.
    Total: a stored received_at or pause however extreme clamps (`core.when.from_epoch`)."""
    paused_s = paused.total_seconds() if isinstance(paused, timedelta) else float(paused)
    due = rules.calendar.add_open_s(received_at.timestamp(), rules.sla(priority).total_seconds() + paused_s)
    return from_epoch(due, received_at.tzinfo or UTC)


#: holds that stop the SLA clock (SPEC §2: only waits on the customer)
PAUSING_HOLDS = tuple(h.value for h in HoldReason if h.pauses_sla)


def sla_paused(state: str, hold_reason: str | None) -> bool:
    """The SLA clock stands still only while an order waits on the customer (customer_info,
    customer_request holds): its due time moves on with the wait."""
    return state == OrderState.ON_HOLD.value and hold_reason in PAUSING_HOLDS


def paused_for(state: str, hold_reason: str | None, hold_started_at: float | None, now: float,
               cal: Calendar) -> float:
    """Open seconds so far of a running customer hold (`sla_paused`): the SLA clock counts open
    time only, so the pause is open time too, and due_at moves on by it as open time. Finished
    holds are already added to due_at and paused_s (at unhold)."""
    if sla_paused(state, hold_reason) and hold_started_at is not None:
        return max(0.0, cal.open_s(float(hold_started_at), now))
    return 0.0


def effective_due(row: Mapping[str, Any], now: datetime | float, cal: Calendar) -> float:
    """due_at moved on by `paused_for` open seconds, in epoch seconds (the KPIs run it over every
    open row)."""
    t = now if isinstance(now, float) else now.timestamp()
    paused = paused_for(row["state"], row["hold_reason"], row["hold_started_at"], t, cal)
    return cal.add_open_s(float(row["due_at"]), paused) if paused else float(row["due_at"])


def due_cell(row: Mapping[str, Any], now: datetime, cal: Calendar) -> tuple[datetime, str]:
    """An open order's due time now (`effective_due`) and its countdown, from a queue row
    (due_at, state, hold_reason, hold_started_at): what the queue and `order list` show. An order
    that is no longer open owes nothing: no countdown ("—"), not "overdue 11087d" for a sale
    shipped decades ago."""
    due = from_epoch(effective_due(row, now, cal), now.tzinfo or UTC)
    if not OrderState(row["state"]).open:
        return due, "—"
    return due, due_text(due, now, sla_paused(row["state"], row["hold_reason"]), cal)


def queue_key(due: datetime, priority: Priority, tier: Tier, total: Decimal, ident: int) -> tuple:
    """The total order of the queue. The id makes it total when everything else ties."""
    return (due, priority.level, tier.rank, -total, ident)


class Slack(StrEnum):
    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    SOON = "soon"
    OK = "ok"


def slack(due: datetime, now: datetime, at_risk: timedelta, cal: Calendar) -> Slack:
    """`at_risk` is the rules' threshold (Rules.at_risk), compared with the *open* time left; zero
    before the rules are known marks nothing at risk, only overdue (see the queue's first paint)."""
    if due < now:
        return Slack.OVERDUE
    left = cal.open_time_between(now, due)
    if at_risk > timedelta(0) and left <= at_risk:
        return Slack.AT_RISK
    if left <= timedelta(hours=1):
        return Slack.SOON
    return Slack.OK


def humanize(delta: timedelta | float) -> str:
    """A duration (a timedelta or seconds) as "2d 4h", "3h 05m", "7m"; any float, even ±inf, is shown."""
    secs = abs(delta.total_seconds() if isinstance(delta, timedelta) else float(delta))
    s = int(secs if secs < 1e12 else 1e12)  # ±inf, NaN and absurd spans read as ~31,700 years
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, _ = divmod(s, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m"


def coarse(delta: timedelta) -> str:
    """The largest whole unit only: '16h', '2d', '37m' (a clock that stands still needs no minutes)."""
    s = int(abs(delta.total_seconds()))
    if s >= 86400:
        return f"{s // 86400}d"
    if s >= 3600:
        return f"{s // 3600}h"
    return f"{s // 60}m"


def due_text(due: datetime, now: datetime, paused: bool = False, cal: Calendar | None = None) -> str:
    """"in 2h 05m" or "overdue 3h"; while the SLA clock stands still (`sla_paused`), "paused 3h left"
    or "paused 16h over" when it was overdue already. The queue keeps a paused order at its due_at
    from before the hold, so the word says why it sits among earlier deadlines. One wording for the
    queue row, the why panel and the CLI; short enough for the queue's due column.

    With the desk calendar `cal`, the time left (or overdue) is *open* time: an order due Monday
    11:00 seen Friday 17:00 is "in 4h 00m". Without it, wall time (a claim's lease runs round the clock)."""
    if cal is None:
        left = due - now
    else:
        left = cal.open_time_between(now, due)
        if due < now and left == timedelta(0):
            left = -timedelta(microseconds=1)  # breached while the desk was closed: still overdue
    if paused:
        return f"paused {coarse(left)} {'over' if left < timedelta(0) else 'left'}"
    if left < timedelta(0):
        return f"overdue {humanize(left)}"
    return f"in {humanize(left)}"


def explain(
    *,
    priority: Priority,
    priority_source: str,
    tier: Tier,
    total: Decimal,
    due: datetime,
    now: datetime,
    cal: Calendar,
    position: int | None = None,
    override: str | None = None,
    paused: bool = False,
) -> list[str]:
    """Why an item ranks where it does, in the words a rep would use."""
    lines = []
    if position is not None:
        lines.append(f"#{position} in the queue: earliest deadline first")
    lines.append(f"class {priority.value}: {priority_source}")
    if override:
        lines.append(f"override: {override}")
    lines.append(f"{'SLA' if paused else 'due'} {due_text(due, now, paused, cal)} ({due:%Y-%m-%d %H:%M} UTC)"
                 f"{' of open time' if not cal.always_open else ''}")
    lines.append(f"ties: class {priority.value}, tier {tier.value}, value {total:,.2f}")
    return lines
