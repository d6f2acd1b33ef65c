"""The simulator: deterministic for a seed, and triage beats FCFS where the answer is known."""
from __future__ import annotations

import json

import pytest

from core.enums import Priority
from core.errors import ValidationError
from core.simulate import Arrival, compare, parse_arrivals, run, service_times

SLA = {Priority.P1: 3600.0, Priority.P2: 14400.0, Priority.P3: 28800.0, Priority.P4: 86400.0}


def test_triage_beats_fcfs_for_p1_on_a_known_case() -> None:
    """One rep; eight P4 jobs of 10 min at t=0, one P1 job of 10 min at t=60 s.

    FCFS: the P1 starts after all eight P4s, at 4800 s, and is released at 5400 s > due 3660 s: missed.
    Triage: when the rep frees up at 600 s the P1 (due 3660 s) beats the P4s (due 86400 s): released
    at 1200 s, met; the last P4 then ends at 5400 s, far inside its 24 h SLA.
    """
    arrivals = [Arrival(0.0, Priority.P4, 10.0, 600.0) for _ in range(8)] + [Arrival(60.0, Priority.P1, 10.0, 600.0)]
    out = compare(arrivals, {}, sla_s=SLA, reps=1)
    fcfs, triage = out["policies"]["fcfs"]["by_class"], out["policies"]["triage"]["by_class"]
    assert fcfs["P1"] == {"n": 1, "sla_met_pct": 0.0, "p90_wait_s": 4740.0, "mean_wait_s": 4740.0}
    assert triage["P1"] == {"n": 1, "sla_met_pct": 100.0, "p90_wait_s": 540.0, "mean_wait_s": 540.0}
    assert fcfs["P4"]["sla_met_pct"] == triage["P4"]["sla_met_pct"] == 100.0
    # revenue-weighted wait: FCFS waits 0,600,…,4200 for the P4s (sum 16800) + 4740 → 21540/9 = 2393.3
    assert out["policies"]["fcfs"]["revenue_weighted_wait_s"] == 2393.3


def test_same_arrivals_and_service_times_for_both_policies() -> None:
    arrivals = [Arrival(float(i * 30), Priority(f"P{1 + i % 4}"), float(i)) for i in range(200)]
    observed = {"P1": [300.0, 900.0], "P3": [600.0, 1200.0, 1800.0]}
    a = service_times(arrivals, observed, seed=7)
    assert a == service_times(arrivals, observed, seed=7)
    assert a != service_times(arrivals, observed, seed=8)
    # P2/P4 have no observations of their own: drawn from the pooled ones
    assert set(a[1::4]) <= {300.0, 900.0, 600.0, 1200.0, 1800.0}
    one = compare(arrivals, observed, sla_s=SLA, reps=2, seed=7)
    two = compare(arrivals, observed, sla_s=SLA, reps=2, seed=7)
    assert one == two
    # both policies do exactly the same work: same count, the same busy time
    for policy in ("fcfs", "triage"):
        done = run(arrivals, a, 2, policy, SLA)
        assert sorted(d.idx for d in done) == list(range(200))
        assert sum(d.end - d.start for d in done) == pytest.approx(sum(a))
        assert all(d.start >= arrivals[d.idx].t for d in done)


def test_no_rep_is_ever_double_booked() -> None:
    arrivals = [Arrival(float(i * 10), Priority.P3, 1.0, 95.0) for i in range(50)]
    done = run(arrivals, [95.0] * 50, 3, "triage", SLA)
    events = sorted([(d.start, 1) for d in done] + [(d.end, -1) for d in done], key=lambda e: (e[0], e[1]))
    busy = 0
    for _, delta in events:
        busy += delta
        assert busy <= 3


def test_arrivals_files(tmp_path) -> None:
    csv_text = "received_at,priority,value,service_s\n2026-11-26T09:00:00Z,P1,10.5,600\n2026-11-26T09:01:00Z,p4,1,\n"
    got = parse_arrivals(csv_text)
    assert [a.priority for a in got] == [Priority.P1, Priority.P4] and got[0].service_s == 600.0 and got[1].service_s is None
    jl = '{"received_at": 1795683600, "priority": "P2", "value": 3}\n\n{"received_at": 1795683000, "priority": "P3", "value": 0}\n'
    got = parse_arrivals(jl)
    assert [a.priority for a in got] == [Priority.P3, Priority.P2]  # sorted by time
    for bad, why in (("received_at,priority\nsoon,P1\n", "not a time"), ("received_at,priority\n5,P9\n", "P1..P4"),
                     ("nope\n", "header"), ('{"priority": "P1"}\n', "received_at is missing")):
        with pytest.raises(ValidationError, match=why):
            parse_arrivals(bad)


def test_cli_simulate_from_file_and_json(tmp_path, cli, db_path) -> None:
    f = tmp_path / "arrivals.csv"
    f.write_text("received_at,priority,value,service_s\n"
                 + "".join(f"2026-11-26T09:00:00Z,P4,1,600\n" for _ in range(8))
                 + "2026-11-26T09:01:00Z,P1,1,600\n")
    proc = cli("--db", str(db_path), "simulate", "--arrivals", str(f), "--reps", "1", "--json", check=True)
    out = json.loads(proc.stdout)
    assert out["policies"]["fcfs"]["by_class"]["P1"]["sla_met_pct"] == 0.0
    assert out["policies"]["triage"]["by_class"]["P1"]["sla_met_pct"] == 100.0
    proc = cli("--db", str(db_path), "simulate", "--arrivals", str(f), "--reps", "1", "--policy", "triage", check=True)
    assert "SLA met triage" in proc.stdout and "fcfs" not in proc.stdout.split("\n\n", 1)[1]
    proc = cli("--db", str(db_path), "simulate", "--arrivals", str(tmp_path / "missing.csv"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    proc = cli("--db", str(db_path), "simulate")
    assert proc.returncode == 2 and "no orders" in proc.stderr


def test_cli_simulate_on_demo_history(demo_db, cli) -> None:
    """The demo's own history (arrivals, claim→release handling times): triage serves P1 and P2 better."""
    out = json.loads(cli("--db", str(demo_db), "simulate", "--from-db", "--seed", "3", "--json", check=True).stdout)
    again = json.loads(cli("--db", str(demo_db), "simulate", "--from-db", "--seed", "3", "--json", check=True).stdout)
    assert out == again
    f, t = out["policies"]["fcfs"]["by_class"], out["policies"]["triage"]["by_class"]
    assert t["P1"]["sla_met_pct"] >= f["P1"]["sla_met_pct"]
    assert t["P1"]["p90_wait_s"] < f["P1"]["p90_wait_s"] and t["P2"]["p90_wait_s"] < f["P2"]["p90_wait_s"]
    assert out["policies"]["triage"]["revenue_weighted_wait_s"] < out["policies"]["fcfs"]["revenue_weighted_wait_s"]
