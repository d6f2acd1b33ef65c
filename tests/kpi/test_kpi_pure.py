"""The pure KPI helpers on tiny hand-made rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import kpi, kpi_returns
from core.calendar import parse_calendar
from core.errors import ValidationError

T = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
t = T.timestamp()
W = kpi.Window(T - timedelta(hours=12), T + timedelta(hours=12))


def test_percentile_is_nearest_rank() -> None:
    assert kpi.percentile([40, 10, 30, 20], 0.5) == 20.0      # rank ceil(2.0) = 2
    assert kpi.percentile([40, 10, 30, 20], 0.9) == 40.0      # rank ceil(3.6) = 4
    assert kpi.percentile(range(1, 11), 0.9) == 9.0           # rank ceil(9.0) = 9
    assert kpi.percentile([7], 0.5) == 7.0 and kpi.percentile([], 0.5) is None


def test_percentages_say_none_when_there_is_nothing_to_divide() -> None:
    assert kpi.pct(1, 3) == 33.3 and kpi.pct(2, 3) == 66.7 and kpi.pct(0, 0) is None


def test_window_is_half_open_and_never_empty() -> None:
    assert W.has(W.lo) and not W.has(W.hi) and not W.has(None)
    with pytest.raises(ValidationError):
        kpi.Window(T, T)


def test_breach_and_risk_with_a_paused_customer_hold() -> None:
    rows = [
        {"state": "queued", "due_at": t - 1, "hold_reason": None, "hold_started_at": None},          # breached
        {"state": "in_progress", "due_at": t + 600, "hold_reason": None, "hold_started_at": None},   # at risk (10 min)
        {"state": "queued", "due_at": t + 900, "hold_reason": None, "hold_started_at": None},        # 15 min: not < 15
        # due 30 min ago, but on a customer_info hold for the last 40 min: effective due is 10 min ahead -> at risk
        {"state": "on_hold", "due_at": t - 1800, "hold_reason": "customer_info", "hold_started_at": t - 2400},
        # a credit hold does not pause the clock: breached
        {"state": "on_hold", "due_at": t - 1800, "hold_reason": "credit", "hold_started_at": t - 2400},
        {"state": "released", "due_at": t - 9999, "hold_reason": None, "hold_started_at": None},     # not open
    ]
    desk = parse_calendar(None)  # Thursday 11:20–12:15 lies inside the default desk hours
    assert kpi.sla_breached_open(rows, T, desk) == 2
    assert kpi.sla_at_risk(rows, T, timedelta(minutes=15), desk) == 2


def test_flow_kpis_on_three_releases() -> None:
    rel = [
        {"received_at": t - 600, "released_at": t, "due_at": t + 1, "straight_through": 0, "released_by": "alice"},
        {"received_at": t - 60, "released_at": t - 60, "due_at": t, "straight_through": 1, "released_by": "system"},
        {"received_at": t - 7200, "released_at": t - 100, "due_at": t - 3600, "straight_through": 0, "released_by": "bob"},
    ]
    # cycle times 600, 0, 7100 -> sorted [0, 600, 7100]: p50 = 600 (rank 2), p90 = 7100 (rank 3)
    assert kpi.cycle_time_p50_s(rel) == 600.0 and kpi.cycle_time_p90_s(rel) == 7100.0
    assert kpi.released(rel) == 3
    assert kpi.sla_met_pct(rel) == 66.7          # bob's was released 3500 s after due
    assert kpi.touchless_pct(rel) == 33.3
    assert kpi.released_by_rep(rel) == {"alice": 1, "bob": 1, "system": 1}
    hours = kpi.released_by_hour(rel, W, UTC)
    assert len(hours) == 24 and sum(hours.values()) == 3 and hours["2026-11-26T11:00+00:00"] == 2
    pairs = [{"rep": "alice", "claimed_at": t - 900, "released_at": t - 300}, {"rep": "bob", "claimed_at": None,
                                                                               "released_at": t - 200}]
    per = {h["hour"]: h for h in kpi.per_hour(rel, pairs, W, UTC)}
    assert per["2026-11-26T11:00+00:00"] == {"hour": "2026-11-26T11:00+00:00", "released": 2, "avg_handling_s": 600.0}
    assert per["2026-11-26T12:00+00:00"]["avg_handling_s"] is None
    assert kpi.cycle_time_p50_s([]) is None and kpi.sla_met_pct([]) is None and kpi.touchless_pct([]) is None


def test_cohort_rates_on_received_orders_grouped_by_the_store() -> None:
    rec = [
        {"channel": "online", "state": "released", "ever_held": 0, "n": 3},
        {"channel": "edi", "state": "cancelled", "ever_held": 1, "n": 1},
        {"channel": "phone", "state": "queued", "ever_held": 0, "n": 2},
        {"channel": "fax", "state": "on_hold", "ever_held": 1, "n": 2},
    ]
    # 8 orders: electronic 3 + 1 = 4 -> 50 %; ever held 1 + 2 = 3 -> 37.5 %; cancelled 1 -> 12.5 %
    assert kpi.electronic_share_pct(rec) == 50.0
    assert kpi.hold_rate_pct(rec) == 37.5
    assert kpi.cancel_rate_pct(rec) == 12.5
    assert kpi.electronic_share_pct([]) is None


def test_returns_kpis() -> None:
    assert kpi_returns.return_rate_pct(7, 15) == 46.7 and kpi_returns.return_rate_pct(3, 0) is None
    resolved = [{"requested_at": t - 4200, "received_at": t - 2400, "resolved_at": t},
                {"requested_at": t - 90000, "received_at": None, "resolved_at": t}]
    assert kpi_returns.return_cycle_time_p50_s(resolved) == 4200.0       # [4200, 90000] rank 1
    assert kpi_returns.refund_time_p50_s(resolved) == 2400.0              # only the received one
    lines = [{"reason": "damaged", "qty": 2}, {"reason": "wrong_item", "qty": 4}, {"reason": "damaged", "qty": 3},
             {"reason": "other", "qty": 1}]
    assert list(kpi_returns.by_reason(lines).items()) == [("damaged", 5), ("wrong_item", 4), ("other", 1)]
    disp = [{"disposition": "scrap", "qty": 2, "qty_received": 2}, {"disposition": "restock", "qty": 3, "qty_received": 1},
            {"disposition": None, "qty": 9, "qty_received": None}, {"disposition": "refurbish", "qty": 1, "qty_received": None}]
    assert list(kpi_returns.by_disposition(disp).items()) == [("scrap", 2), ("refurbish", 1), ("restock", 1)]
    assert kpi_returns.returns_open([{"state": "requested", "n": 2}, {"state": "resolved", "n": 5},
                             {"state": "pending_approval", "n": 1}]) == 3


def test_queue_counts_and_oldest_wait() -> None:
    counts = [{"state": "queued", "priority": "P1", "n": 2}, {"state": "queued", "priority": "P4", "n": 5},
              {"state": "in_progress", "priority": "P1", "n": 1}, {"state": "on_hold", "priority": "P3", "n": 4}]
    assert kpi.queue_depth(counts) == {"P1": 2, "P2": 0, "P3": 0, "P4": 5}
    assert kpi.state_count(counts, "in_progress") == 1 and kpi.state_count(counts, "on_hold") == 4
    assert kpi.oldest_wait_s([t - 3600, t - 60, None], T) == 3600.0 and kpi.oldest_wait_s([None], T) is None


def test_handling_times_and_per_rep() -> None:
    pairs = [{"rep": "alice", "claimed_at": t - 600, "released_at": t}, {"rep": "alice", "claimed_at": t - 1200, "released_at": t},
             {"rep": "bob", "claimed_at": None, "released_at": t}]  # a release whose claim is unknown: no time
    rel = [{"released_at": t, "released_by": "alice"}, {"released_at": t, "released_by": "alice"},
           {"released_at": t, "released_by": "system"}]
    claims = [{"claimed_by": "bob", "number": "SO-9"}]
    rows = kpi.per_rep(rel, pairs, claims)
    assert rows == [
        {"rep": "alice", "released": 2, "avg_handling_s": 900.0, "claims": 0, "holding": []},   # (600 + 1200) / 2
        {"rep": "bob", "released": 0, "avg_handling_s": None, "claims": 1, "holding": ["SO-9"]},
    ]


def test_hourly_sparkline() -> None:
    end = T
    assert kpi.hourly_counts([t - 1, t - 3601, t - 3600 * 12, t - 3600 * 12 - 1, t], end, 12) == [1] + [0] * 9 + [1, 1]


def test_duration_text() -> None:
    assert [kpi.duration_text(x) for x in (None, 5, 425, 12000, 190000)] == ["—", "5s", "7m 05s", "3h 20m", "2d 4h"]


def test_imported_history_counts_where_it_says_something_and_is_unknown_where_it_cannot() -> None:
    """A sale imported as history shipped on its invoice date: it counts in throughput, channel mix and units,
    but says nothing of how this desk worked it, so those KPIs leave it out (None when it is all there is)."""
    hist = [{"received_at": t - 400 * 86400, "released_at": t - 400 * 86400, "due_at": t - 400 * 86400 + 3600,
             "straight_through": 0, "released_by": "import", "history": 1}] * 3
    live_rel = {"received_at": t - 600, "released_at": t, "due_at": t + 1, "straight_through": 0,
                "released_by": "alice", "history": 0}
    assert kpi.released(hist) == 3
    for f in (kpi.cycle_time_p50_s, kpi.cycle_time_p90_s, kpi.sla_met_pct, kpi.touchless_pct):
        assert f(hist) is None, f.__name__
    assert kpi.cycle_time_p50_s([*hist, live_rel]) == 600.0 and kpi.sla_met_pct([*hist, live_rel]) == 100.0
    assert [r["rep"] for r in kpi.per_rep([*hist, live_rel], [], [])] == ["alice"], "the import is not a rep"
    rec = [{"channel": "online", "state": "shipped", "ever_held": 0, "history": 1, "n": 5},
           {"channel": "phone", "state": "cancelled", "ever_held": 1, "history": 0, "n": 1}]
    assert kpi.electronic_share_pct(rec) == 83.3
    assert kpi.hold_rate_pct(rec) == kpi.cancel_rate_pct(rec) == 100.0
    assert kpi.hold_rate_pct(rec[:1]) is None and kpi.cancel_rate_pct(rec[:1]) is None
    resolved = [{"requested_at": t, "received_at": t, "resolved_at": t, "history": 1}]
    assert kpi_returns.return_cycle_time_p50_s(resolved) is None and kpi_returns.refund_time_p50_s(resolved) is None
