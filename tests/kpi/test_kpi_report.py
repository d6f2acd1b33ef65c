"""Every KPI of SPEC §2 on a hand-computed day (tests/kpi/conftest.py has the worked numbers)."""
from __future__ import annotations

import json

import pytest

from core.errors import PermissionDenied
from core.kpi import EXTRA_ORDER_KEYS, ORDER_KEYS, RETURN_KEYS, Window
from tests.conftest import json_lines
from tests.kpi.conftest import DAY, EXPECTED, at

SPEC_ORDER_KEYS = {"queue_depth", "in_progress", "on_hold", "oldest_wait_s", "sla_breached_open", "sla_at_risk",
                   "cycle_time_p50_s", "cycle_time_p90_s", "sla_met_pct", "released", "touchless_pct",
                   "electronic_share_pct", "hold_rate_pct", "cancel_rate_pct"}
SPEC_RETURN_KEYS = {"open", "pending_approval", "return_rate_pct", "cycle_time_p50_s", "refund_time_p50_s",
                    "by_reason", "by_disposition"}
WINDOW = ["--since", "2026-11-26T00:00Z", "--until", "2026-11-27T00:00Z"]


def test_service_report_matches_the_worked_numbers(kpi_day, desk_for, clock) -> None:
    path, _ = kpi_day
    sam = desk_for(path, "sam")
    got = sam.kpi.report(Window(DAY, at(0, day=27)))
    assert got == EXPECTED


def test_cli_json_has_exactly_the_spec_keys_and_the_worked_numbers(kpi_day, cli) -> None:
    path, _ = kpi_day
    proc = cli("--db", str(path), "--now", "2026-11-26T11:10:00Z", "kpi", *WINDOW, "--json", check=True)
    out = json.loads(proc.stdout)
    assert set(out) == {"orders", "returns"}
    assert set(out["orders"]) == SPEC_ORDER_KEYS | set(EXTRA_ORDER_KEYS) and SPEC_ORDER_KEYS == set(ORDER_KEYS)
    assert set(out["returns"]) == SPEC_RETURN_KEYS == set(RETURN_KEYS)
    assert set(out["orders"]["queue_depth"]) == {"P1", "P2", "P3", "P4"}
    assert out == EXPECTED


def test_breakdown_per_rep_and_per_hour(kpi_day, cli) -> None:
    path, _ = kpi_day
    proc = cli("--db", str(path), "--now", "2026-11-26T11:10:00Z", "kpi", *WINDOW, "--json", "--breakdown", check=True,
               env={"TZ": "UTC"})
    out = json.loads(proc.stdout)
    assert {k: out[k] for k in ("orders", "returns")} == EXPECTED
    reps = {r["rep"]: r for r in out["breakdown"]["by_rep"]}
    # alice: O2 claimed 09:10, released 09:40 -> 1800 s; bob: O3 09:40 -> 10:30 -> 3000 s
    assert reps["alice"]["released"] == 1 and reps["alice"]["avg_handling_s"] == 1800.0
    assert reps["bob"]["released"] == 1 and reps["bob"]["avg_handling_s"] == 3000.0
    assert out["breakdown"]["straight_through"] == 1
    hours = {h["hour"][11:16]: h for h in out["breakdown"]["by_hour"]}
    assert sum(h["released"] for h in hours.values()) == 3
    assert len(hours) == 24
    # 09:00-10:00 UTC: O1 (straight through) and O2 (alice, 1800 s); 10:00-11:00: O3 (bob, 3000 s)
    assert (hours["09:00"]["released"], hours["09:00"]["avg_handling_s"]) == (2, 1800.0)
    assert (hours["10:00"]["released"], hours["10:00"]["avg_handling_s"]) == (1, 3000.0)


def test_current_claims_per_rep(kpi_day, desk_for) -> None:
    path, n = kpi_day
    bob = desk_for(path, "bob")
    bob.orders.claim(n["O6"])
    sam = desk_for(path, "sam")
    reps = {r["rep"]: r for r in sam.kpi.breakdown(Window(DAY, at(0, day=27)))["by_rep"]}
    assert reps["bob"]["claims"] == 1 and reps["bob"]["holding"] == [n["O6"]]
    got = sam.kpi.report(Window(DAY, at(0, day=27)))["orders"]
    assert got["in_progress"] == 1 and got["queue_depth"]["P1"] == 0


def test_plain_table_and_html_report(kpi_day, cli, tmp_path) -> None:
    path, _ = kpi_day
    report = tmp_path / "day.html"
    text = cli("--db", str(path), "--now", "2026-11-26T11:10:00Z", "kpi", *WINDOW, check=True).stdout
    assert "SLA met" in text and "66.7 %" in text and "alice" in text and "bob" in text
    proc = cli("--db", str(path), "--now", "2026-11-26T11:10:00Z", "kpi", *WINDOW, "--html", str(report), check=True)
    # the report is in the file; the terminal gets one line saying where, not the text report as well
    assert proc.stdout.strip().splitlines() == [f"report for 2026-11-26 00:00 → 2026-11-27 00:00 (UTC) written to {report}"]
    page = report.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page and "<link" not in page
    assert "66.7 %" in page and "damaged" in page
    import re
    import xml.etree.ElementTree as ET

    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) == 4  # queue by class, releases per hour, reasons, dispositions
    for svg in charts:
        assert ET.fromstring(svg).tag.endswith("svg")  # well-formed, drawable by any mail client


def test_a_rep_is_refused_and_bad_windows_are_one_line(kpi_day, cli, desk_for, tmp_path) -> None:
    path, _ = kpi_day
    with pytest.raises(PermissionDenied):
        desk_for(path, "alice").kpi.report(Window(DAY, at(0, day=27)))
    proc = cli("--db", str(path), "kpi", "--user", "alice", "--json")
    # (the audit logger also warns on stderr; the user's line is the last one)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1] == "orderq: Only supervisors and admins can see the KPIs; alice is a rep."
    proc = cli("--db", str(path), "kpi", "--since", "2026-11-27", "--until", "2026-11-26")
    assert proc.returncode == 2 and "--until" in proc.stderr
    proc = cli("--db", str(path), "kpi", "--html", str(tmp_path / "no" / "such" / "dir.html"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("--db", str(path), "kpi", "--since", "yesterdayish")
    assert proc.returncode == 2 and "not a time" in proc.stderr


def test_default_window_is_today(kpi_day, cli) -> None:
    path, _ = kpi_day
    proc = cli("--db", str(path), "--now", "2026-11-26T11:10:00Z", "kpi", "--json", check=True,
               env={"TZ": "UTC"})
    assert json.loads(proc.stdout) == EXPECTED


def test_queue_depth_agrees_with_order_list(demo_db, cli) -> None:
    out = json.loads(cli("--db", str(demo_db), "kpi", "--json", check=True).stdout)
    queued = json_lines(cli("--db", str(demo_db), "order", "list", "--state", "queued", "--json", check=True).stdout)
    assert sum(out["orders"]["queue_depth"].values()) == len(queued) > 0
    for p in ("P1", "P2", "P3", "P4"):
        assert out["orders"]["queue_depth"][p] == sum(1 for q in queued if q["priority"] == p)
    on_hold = json_lines(cli("--db", str(demo_db), "order", "list", "--state", "on_hold", "--json", check=True).stdout)
    assert out["orders"]["on_hold"] == len(on_hold)


@pytest.mark.sqlite_only("traces SQLite's statements and reads its EXPLAIN QUERY PLAN")
def test_kpi_reads_use_indexes(kpi_day, desk_for) -> None:
    """No KPI query walks a whole table: every plan step is an index search or a small lookup."""
    path, _ = kpi_day
    sam = desk_for(path, "sam")
    conn = sam.store.conn
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql))
    sam.kpi.wallboard()
    sam.kpi.report(Window(DAY, at(0, day=27)))
    conn.set_trace_callback(None)
    selects = {s for s in seen if s.lstrip().upper().startswith("SELECT")}
    assert selects
    for sql in selects:
        plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql.replace("?", "0")))
        for step in plan.split(" | "):
            if step.startswith("SCAN "):
                # only tiny tables (returns' state counts, customers/return_lines joined by key) may be scanned,
                # and the delivery outbox's partial indexes, which hold only the backlog and the failures
                assert any(t in step for t in ("returns", "return_lines", "sessions", "CONSTANT",
                                               "deliveries USING INDEX ix_deliveries_")), (sql, plan)


def test_handling_times_follow_new_releases(kpi_day, desk_for, clock) -> None:
    """The service keeps the window's claim→release pairs and reads only newer release events after."""
    from db.config import load_rules
    from core.rules import Claims
    from tests.kpi.conftest import work

    path, n = kpi_day
    sam = desk_for(path, "sam")
    w = Window(DAY, at(0, day=27))
    first = {r["rep"]: r for r in sam.kpi.breakdown(w)["by_rep"]}
    assert first["alice"]["avg_handling_s"] == 1800.0
    alice = desk_for(path, "alice", rules=load_rules().model_copy(update={"claims": Claims(lease_minutes=120)}))
    alice.orders.claim(n["O6"])            # 11:10
    clock.advance(minutes=10)
    work(alice, n["O6"])                   # 11:20: handling 600 s
    again = {r["rep"]: r for r in sam.kpi.breakdown(w)["by_rep"]}
    assert again["alice"]["released"] == 2
    assert again["alice"]["avg_handling_s"] == 1200.0   # (1800 + 600) / 2
