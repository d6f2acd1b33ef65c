"""The pure KPI helpers on tiny hand-made rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import kpi
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
    assert kpi.sla_breached_open(rows, T) == 2
    assert kpi.sla_at_risk(rows, T, timedelta(minutes=15)) == 2


def test_flow_kpis_on_four_releases() -> None:
    rel = [
        {"received_at": t - 600, "released_at": t, "due_at": t + 1, "straight_through": 0, "released_by": "alice"},
        {"received_at": t - 60, "released_at": t - 60, "due_at": t, "straight_through": 1, "released_by": "system"},
        {"received_at": t - 7200, "released_at": t - 100, "due_at": t - 3600, "straight_through": 0, "released_by": "bob"},
        {"received_at": t - 99999, "released_at": t - 86400, "due_at": t, "straight_through": 0, "released_by": "bob"},  # outside
    ]
    # in window: cycle times 600, 0, 7100 -> p50 = 600 (rank 2), p90 = 7100 (rank 3)
    assert kpi.cycle_time_p50_s(rel, W) == 600.0 and kpi.cycle_time_p90_s(rel, W) == 7100.0
    assert kpi.released(rel, W) == 3
    assert kpi.sla_met_pct(rel, W) == 66.7          # bob's was released 3500 s after due
    assert kpi.touchless_pct(rel, W) == 33.3
    assert kpi.released_by_rep(rel, W) == {"alice": 1, "bob": 1, "system": 1}
    hours = kpi.released_by_hour(rel, W, UTC)
    assert len(hours) == 24 and sum(hours.values()) == 3 and hours["2026-11-26T11:00+00:00"] == 2


def test_cohort_rates_on_received_orders() -> None:
    rec = [
        {"received_at": t, "channel": "online", "state": "released", "ever_held": 0},
        {"received_at": t, "channel": "edi", "state": "cancelled", "ever_held": 1},
        {"received_at": t, "channel": "phone", "state": "queued", "ever_held": 0},
        {"received_at": t, "channel": "fax", "state": "on_hold", "ever_held": 1},
        {"received_at": t - 86400, "channel": "online", "state": "cancelled", "ever_held": 1},  # outside
    ]
    assert kpi.electronic_share_pct(rec, W) == 50.0
    assert kpi.hold_rate_pct(rec, W) == 50.0
    assert kpi.cancel_rate_pct(rec, W) == 25.0
    assert kpi.electronic_share_pct([], W) is None


def test_queue_counts_and_oldest_wait() -> None:
    counts = [{"state": "queued", "priority": "P1", "n": 2}, {"state": "queued", "priority": "P4", "n": 5},
              {"state": "in_progress", "priority": "P1", "n": 1}, {"state": "on_hold", "priority": "P3", "n": 4}]
    assert kpi.queue_depth(counts) == {"P1": 2, "P2": 0, "P3": 0, "P4": 5}
    assert kpi.state_count(counts, "in_progress") == 1 and kpi.state_count(counts, "on_hold") == 4
    assert kpi.oldest_wait_s([t - 3600, t - 60, None], T) == 3600.0 and kpi.oldest_wait_s([None], T) is None


def test_handling_times_and_per_rep() -> None:
    pairs = [{"rep": "alice", "claimed_at": t - 600, "released_at": t}, {"rep": "alice", "claimed_at": t - 1200, "released_at": t},
             {"rep": "bob", "claimed_at": None, "released_at": t}]
    rel = [{"released_at": t, "released_by": "alice"}, {"released_at": t, "released_by": "alice"},
           {"released_at": t, "released_by": "system"}]
    claims = [{"claimed_by": "bob", "number": "SO-9"}]
    rows = kpi.per_rep(rel, pairs, claims, W)
    assert rows == [
        {"rep": "alice", "released": 2, "avg_handling_s": 900.0, "claims": 0, "holding": []},   # (600 + 1200) / 2
        {"rep": "bob", "released": 0, "avg_handling_s": None, "claims": 1, "holding": ["SO-9"]},
    ]


def test_hourly_sparkline() -> None:
    end = T
    assert kpi.hourly_counts([t - 1, t - 3601, t - 3600 * 12, t - 3600 * 12 - 1, t], end, 12) == [1] + [0] * 9 + [1, 1]


def test_duration_text() -> None:
    assert [kpi.duration_text(x) for x in (None, 5, 425, 12000, 190000)] == ["—", "5s", "7m 05s", "3h 20m", "2d 4h"]
