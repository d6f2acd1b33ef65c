"""The returns KPIs of SPEC §2 (open, pending approval, return rate, cycle and refund time, the reason
and disposition mix), as pure functions over the rows the store hands in; the conventions are
core.kpi's (its module doc). Kept apart from the order figures so each module reads as one subject."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from core.enums import ReturnState
from core.kpi import OPEN_RETURN_STATES, Row, live, pct, percentile

# ---- returns -------------------------------------------------------------------------------
def returns_open(counts: Iterable[Row]) -> int:
    """Open returns: count in requested / pending_approval / authorized / received / inspected.
    Rows: {state, n}."""
    return sum(int(r["n"]) for r in counts if r["state"] in OPEN_RETURN_STATES)


def returns_pending_approval(counts: Iterable[Row]) -> int:
    """Pending approval: count of returns in `pending_approval`. Rows: {state, n}."""
    return sum(int(r["n"]) for r in counts if r["state"] == ReturnState.PENDING_APPROVAL.value)


def return_rate_pct(units_received: int, units_shipped: int) -> float | None:
    """Return rate: 100 × units received back ÷ units shipped, both over the window:
    units received back = Σ return_lines.qty_received of returns with received_at in the window;
    units shipped = Σ order_lines.qty of orders with shipped_at in the window."""
    return pct(units_received, units_shipped)


def return_cycle_time_p50_s(resolved: Iterable[Row]) -> float | None:
    """Return cycle time: p50 (nearest rank) of resolved_at − requested_at over returns resolved in
    the window. Rows: {requested_at, resolved_at}."""
    return percentile((float(r["resolved_at"]) - float(r["requested_at"]) for r in live(resolved)), 0.5)


def refund_time_p50_s(resolved: Iterable[Row]) -> float | None:
    """Refund time: p50 (nearest rank) of resolved_at − received_at over returns resolved in the window
    that were received. Rows: {received_at, resolved_at}."""
    return percentile(
        (float(r["resolved_at"]) - float(r["received_at"]) for r in live(resolved) if r["received_at"] is not None),
        0.5)


def by_reason(lines: Iterable[Row]) -> dict[str, int]:
    """Reason Pareto: units requested back (Σ return_lines.qty) per reason code, over the lines of
    returns requested in the window, largest first (ties by name). Rows: {reason, qty}."""
    c: Counter[str] = Counter()
    for r in lines:
        c[r["reason"]] += int(r["qty"])
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def by_disposition(lines: Iterable[Row]) -> dict[str, int]:
    """Disposition mix: units inspected (Σ coalesce(qty_received, qty)) per disposition, over the lines
    with a disposition of returns inspected in the window, largest first.
    Rows: {disposition, qty, qty_received}."""
    c: Counter[str] = Counter()
    for r in lines:
        if r["disposition"]:
            q = r["qty_received"] if r["qty_received"] is not None else r["qty"]
            c[r["disposition"]] += int(q)
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
