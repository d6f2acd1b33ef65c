"""`make bench`: run every bench/bench_*.py, each in its own process, and print one table.

    python -m bench              # all of them
    python -m bench claim kpi    # only bench_claim and bench_kpi
    python -m bench --json       # the rows as JSON lines, then the machine line

A benchmark that crashes, times out or finds no data becomes a FAIL row that says so.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, error_row, format_table, machine_line

HERE = Path(__file__).resolve().parent
MARK = "@@BENCH-ROWS@@"
TIMEOUT_S = float(os.environ.get("ORDERQ_BENCH_TIMEOUT", "1200"))
RUNNER = (
    "import json, sys, importlib\n"
    "m = importlib.import_module(sys.argv[1])\n"
    "rows = m.run()\n"
    f"print({MARK!r} + json.dumps(rows, default=str))\n"
)


def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return names


def run_one(name: str) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        p = subprocess.run([sys.executable, "-c", RUNNER, f"bench.{name}"], capture_output=True, text=True,
                           timeout=TIMEOUT_S, cwd=REPO, env=env)
    except subprocess.TimeoutExpired:
        return [error_row(name, f"timed out after {TIMEOUT_S:.0f} s")], time.perf_counter() - t0
    took = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(MARK)]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
        return [error_row(name, tail[:160])], took
    try:
        rows = json.loads(lines[-1][len(MARK):])
        if not isinstance(rows, list) or not rows:
            return [error_row(name, "run() returned no rows")], took
        return [r if isinstance(r, dict) else error_row(name, f"bad row {r!r}") for r in rows], took
    except json.JSONDecodeError as e:
        return [error_row(name, f"unreadable rows: {e}")], took


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    only = [a for a in argv if not a.startswith("-")]
    names = discover(only)
    if not names:
        print("no benchmarks found", file=sys.stderr)
        return 2
    rows: list[dict] = []
    for name in names:
        print(f"running {name} …", file=sys.stderr, flush=True)
        got, took = run_one(name)
        print(f"  {name}: {len(got)} row(s) in {took:.1f} s", file=sys.stderr, flush=True)
        rows += got
    if as_json:
        for r in rows:
            print(json.dumps(r, default=str))
        print(json.dumps({"machine": machine_line()}))
    else:
        print(format_table(rows))
        print(machine_line())
    return 0 if all(r.get("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
