"""KPI windows (issue 17 item 10, issue 12 §3): a window is at most `MAX_WINDOW` long and starts no later
than now, so the per-hour breakdown is bounded; the text report charts hours only for short windows."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ValidationError
from core.kpi import CHART_MAX_HOURS, MAX_WINDOW, Window

NOW = "2026-11-26T11:10:00Z"


def test_a_window_longer_than_the_maximum_is_refused() -> None:
    t = datetime(2026, 11, 26, tzinfo=UTC)
    assert Window(t - MAX_WINDOW, t).until == t
    with pytest.raises(ValidationError, match=f"at most {MAX_WINDOW.days} days"):
        Window(t - MAX_WINDOW - timedelta(seconds=1), t)


@pytest.mark.parametrize("argv", [
    ["--since", "1970-01-01"],                                   # 57 years: the probe's 200-year window, capped
    ["--since", "1990-01-01", "--until", "2026-11-26", "--breakdown", "--json"],
    ["--since", "+1d"],                                          # a future window
    ["--since", "+1h", "--until", "+20h"],
])
def test_wide_or_future_windows_are_one_line_exit_2(kpi_day, cli, argv) -> None:
    path, _ = kpi_day
    p = cli("--db", str(path), "--now", NOW, "kpi", *argv)
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_the_widest_window_has_bounded_buckets_and_a_short_text_report(kpi_day, cli) -> None:
    path, _ = kpi_day
    since = (datetime(2026, 11, 26, 11, 10, tzinfo=UTC) - MAX_WINDOW).isoformat()
    out = json.loads(cli("--db", str(path), "--now", NOW, "kpi", "--since", since, "--json", "--breakdown",
                         env={"TZ": "UTC"}, check=True).stdout)
    hours = out["breakdown"]["by_hour"]
    assert MAX_WINDOW.days * 24 <= len(hours) <= MAX_WINDOW.days * 24 + 1
    assert sum(h["released"] for h in hours) == out["orders"]["released"] == 3
    text = cli("--db", str(path), "--now", NOW, "kpi", "--since", since, env={"TZ": "UTC"}, check=True).stdout
    assert len(text.splitlines()) < 60 and f"up to {CHART_MAX_HOURS // 24} days" in text
    # a day's window still charts its busy hours
    day = cli("--db", str(path), "--now", NOW, "kpi", "--since", "2026-11-26T00:00Z", env={"TZ": "UTC"},
              check=True).stdout
    assert "released per hour" in day and "  09:00  " in day


def test_negative_relative_times_work_as_separate_arguments(kpi_day, cli) -> None:
    path, _ = kpi_day
    spaced = cli("--db", str(path), "--now", NOW, "kpi", "--since", "-2h", "--json", check=True).stdout
    joined = cli("--db", str(path), "--now", NOW, "kpi", "--since=-2h", "--json", check=True).stdout
    assert json.loads(spaced) == json.loads(joined)
