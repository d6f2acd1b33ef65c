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
from core.when import from_epoch, shift

if TYPE_CHECKING:
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
    """due_at = received_at + sla(class), with paused hold time (a timedelta, or seconds as stored) added
    back. Total: a stored received_at or pause however extreme clamps (`core.when.shift`), never overflows."""
    paused_s = paused.total_seconds() if isinstance(paused, timedelta) else float(paused)
    return shift(received_at, rules.sla(priority).total_seconds() + paused_s)


#: holds that stop the SLA clock (SPEC §2: only waits on the customer)
PAUSING_HOLDS = tuple(h.value for h in HoldReason if h.pauses_sla)


def sla_paused(state: str, hold_reason: str | None) -> bool:
    """The SLA clock stands still only while an order waits on the customer (customer_info,
    customer_request holds): its due time moves on with the wait."""
    return state == OrderState.ON_HOLD.value and hold_reason in PAUSING_HOLDS


def paused_for(state: str, hold_reason: str | None, hold_started_at: float | None, now: float) -> float:
    """Seconds so far of a running customer hold (`sla_paused`). Finished holds are already added
    to due_at (at unhold)."""
    if sla_paused(state, hold_reason) and hold_started_at is not None:
        return max(0.0, now - float(hold_started_at))
    return 0.0


def effective_due(row: Mapping[str, Any], now: datetime | float) -> float:
    """due_at plus `paused_for`, in epoch seconds (the KPIs run it over every open row)."""
    t = now if isinstance(now, float) else now.timestamp()
    return float(row["due_at"]) + paused_for(row["state"], row["hold_reason"], row["hold_started_at"], t)


def due_cell(row: Mapping[str, Any], now: datetime) -> tuple[datetime, str]:
    """An open order's due time now (`effective_due`) and its countdown, from a queue row
    (due_at, state, hold_reason, hold_started_at): what the queue and `order list` show. An order
    that is no longer open owes nothing: no countdown ("—"), not "overdue 11087d" for a sale
    shipped decades ago."""
    due = from_epoch(effective_due(row, now), now.tzinfo or UTC)
    if not OrderState(row["state"]).open:
        return due, "—"
    return due, due_text(due, now, sla_paused(row["state"], row["hold_reason"]))


def queue_key(due: datetime, priority: Priority, tier: Tier, total: Decimal, ident: int) -> tuple:
    """The total order of the queue. The id makes it total when everything else ties."""
    return (due, priority.level, tier.rank, -total, ident)


class Slack(StrEnum):
    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    SOON = "soon"
    OK = "ok"


def slack(due: datetime, now: datetime, at_risk: timedelta) -> Slack:
    """`at_risk` is the rules' threshold (Rules.at_risk); zero before the rules are known marks
    nothing at risk, only overdue (see the queue's first paint)."""
    left = due - now
    if left < timedelta(0):
        return Slack.OVERDUE
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


def due_text(due: datetime, now: datetime, paused: bool = False) -> str:
    """"in 2h 05m" or "overdue 3h"; while the SLA clock stands still (`sla_paused`), "paused 3h 25m"
    left or "paused -16h 37m" when it was overdue already. The queue keeps a paused order at its
    due_at from before the hold, so the word says why it sits among earlier deadlines."""
    left = due - now
    if paused:
        return f"paused {'-' if left < timedelta(0) else ''}{humanize(left)}"
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
    position: int | None = None,
    override: str | None = None,
) -> list[str]:
    """Why an item ranks where it does, in the words a rep would use."""
    lines = []
    if position is not None:
        lines.append(f"#{position} in the queue: earliest deadline first")
    lines.append(f"class {priority.value}: {priority_source}")
    if override:
        lines.append(f"override: {override}")
    lines.append(f"due {due_text(due, now)} ({due:%Y-%m-%d %H:%M} UTC)")
    lines.append(f"ties: class {priority.value}, tier {tier.value}, value {total:,.2f}")
    return lines
