"""The whole KPI report (`orderq kpi --json`): what the store hands over (KpiInput) and the object
built from it, every figure from core.kpi (orders) and core.kpi_returns (returns)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.enums import OrderState
from core.kpi import (
    EXTRA_ORDER_KEYS, ORDER_KEYS, RETURN_KEYS, Row, cancel_rate_pct, cycle_time_p50_s, cycle_time_p90_s,
    cycle_time_rep_p50_s, cycle_time_rep_p90_s, electronic_share_pct, hold_rate_pct, oldest_wait_s, queue_depth,
    released, sla_at_risk, sla_breached_open, sla_met_pct, state_count, touchless_pct,
)
from core.kpi_returns import (
    by_disposition, by_reason, refund_time_p50_s, return_cycle_time_p50_s, return_rate_pct, returns_open,
    returns_pending_approval,
)

if TYPE_CHECKING:
    from core.calendar import Calendar


@dataclass
class KpiInput:
    """Everything the store hands over for one report (see db/service/kpi.py for the queries)."""

    order_counts: list[Row]          # {state, priority, n}: open orders grouped
    oldest_queued_received_at: float | None
    near_due: list[Row]              # open orders with due_at < now + at_risk whose effective due time is
                                     # computed here (the store sends only running customer holds)
    released: list[Row]              # orders released in window: {received_at, released_at, due_at, straight_through, released_by, history}
    received: list[Row]              # orders received in window, grouped: {channel, state, ever_held, history, n}
    return_counts: list[Row]         # {state, n}
    units_received: int              # Σ qty_received of returns received in window
    units_shipped: int               # Σ qty of order lines of orders shipped in window
    returns_resolved: list[Row]      # returns resolved in window: {requested_at, received_at, resolved_at, history}
    reason_lines: list[Row]          # lines of returns requested in window: {reason, qty}
    disposition_lines: list[Row]     # lines of returns inspected in window: {disposition, qty, qty_received}
    #: open orders not in near_due, counted by the store: due before now / due in [now, now + at_risk)
    running_breached: int = 0
    running_at_risk: int = 0


def report(inp: KpiInput, now: datetime, at_risk: timedelta, cal: Calendar) -> dict[str, dict[str, Any]]:
    """The `orderq kpi --json` object: the keys of SPEC §2, and EXTRA_ORDER_KEYS."""
    orders = {
        "queue_depth": queue_depth(inp.order_counts),
        "in_progress": state_count(inp.order_counts, OrderState.IN_PROGRESS.value),
        "on_hold": state_count(inp.order_counts, OrderState.ON_HOLD.value),
        "oldest_wait_s": oldest_wait_s([inp.oldest_queued_received_at], now),
        "sla_breached_open": inp.running_breached + sla_breached_open(inp.near_due, now, cal),
        "sla_at_risk": inp.running_at_risk + sla_at_risk(inp.near_due, now, at_risk, cal),
        "cycle_time_p50_s": cycle_time_p50_s(inp.released),
        "cycle_time_p90_s": cycle_time_p90_s(inp.released),
        "sla_met_pct": sla_met_pct(inp.released),
        "released": released(inp.released),
        "touchless_pct": touchless_pct(inp.released),
        "electronic_share_pct": electronic_share_pct(inp.received),
        "hold_rate_pct": hold_rate_pct(inp.received),
        "cancel_rate_pct": cancel_rate_pct(inp.received),
        "cycle_time_rep_p50_s": cycle_time_rep_p50_s(inp.released),
        "cycle_time_rep_p90_s": cycle_time_rep_p90_s(inp.released),
    }
    returns = {
        "open": returns_open(inp.return_counts),
        "pending_approval": returns_pending_approval(inp.return_counts),
        "return_rate_pct": return_rate_pct(inp.units_received, inp.units_shipped),
        "cycle_time_p50_s": return_cycle_time_p50_s(inp.returns_resolved),
        "refund_time_p50_s": refund_time_p50_s(inp.returns_resolved),
        "by_reason": by_reason(inp.reason_lines),
        "by_disposition": by_disposition(inp.disposition_lines),
    }
    assert tuple(orders) == ORDER_KEYS + EXTRA_ORDER_KEYS and tuple(returns) == RETURN_KEYS
    return {"orders": _finite(orders), "returns": _finite(returns)}


def _finite(figures: dict[str, Any]) -> dict[str, Any]:
    """±inf / NaN (a stored time of ±inf, written by raw SQL) read as None, unknown: JSON has no infinity."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in figures.items()}
