"""Crash-and-concurrency torture: random commands from several processes, SIGKILLed at random.

After the run: `orderq check` passes (integrity_check, no double claims in the replayed claim
log, state agrees with events, stock and money agree), and every command a worker saw succeed
is in the event log. The short form runs in CI; `make torture` runs the long form.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.prove.torture import run_torture

SHORT_SECONDS = 12


def test_torture_short(tmp_path: Path) -> None:
    figs = run_torture(tmp_path, SHORT_SECONDS, nworkers=4, seed=8)
    print(figs.line())
    assert figs.kills >= 10
    assert figs.acked > 100, "the workers got almost nothing done; the torture proved little"
    assert figs.by_action["release"] and figs.by_action["claim"] and figs.by_action["override"]
    # every command gets its share of the mix, not a handful (issue 17: 1 resolution among 434k commands
    # in 300 s). Shares, not counts: how much a 12 s run gets done depends on the machine's load.
    for step in ("authorize", "receive", "inspect", "resolve", "ship", "stock_received"):
        share = figs.by_action[step] / figs.acked
        assert figs.by_action[step] >= 2 and share >= 0.003, f"{step!r} barely ran: {dict(figs.by_action)}"


@pytest.mark.slow
@pytest.mark.timeout(0)
def test_torture_long(tmp_path: Path) -> None:
    """The long form: deselected from `make test` (marker `slow`), run by `make torture`."""
    seconds = os.environ.get("ORDERQ_TORTURE_SECONDS", "600")
    figs = run_torture(tmp_path, float(seconds), nworkers=6, seed=int(os.environ.get("ORDERQ_TORTURE_SEED", "42")),
                       orders=2000)
    print(figs.line())
    report = os.environ.get("ORDERQ_TORTURE_REPORT")
    if report:
        Path(report).write_text(figs.line() + "\n", encoding="utf-8")
    assert figs.kills >= 50 or float(seconds) < 300
