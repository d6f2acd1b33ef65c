"""Helpers every benchmark shares: percentiles, peak RSS of a process tree, timing a subprocess,
the machine's size, and the one table format.

A benchmark module is `bench/bench_<name>.py` with `def run() -> list[dict]`; each dict is one
row: what, measured, baseline, ratio, budget, ok (see `row`). Measure the baseline in the same run.
"""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def shared_data(relative: str) -> Path:
    """A file or folder of the real data sets: under $ORDERQ_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("ORDERQ_DATA")
    for base in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]:
        if (base / relative).exists():
            return base / relative
    raise SystemExit(f"{relative} not found in the real data: set ORDERQ_DATA")


# ---- statistics -----------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("percentile of no values")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"




# ---- rows -----------------------------------------------------------------------------------
def row(what: str, measured: str, baseline: str, ratio: float, budget: str, ok: bool) -> dict[str, Any]:
    return {"what": what, "measured": measured, "baseline": baseline, "ratio": float(ratio), "budget": budget,
            "ok": bool(ok)}


def error_row(what: str, why: str) -> dict[str, Any]:
    """A benchmark that could not run (crashed, missing data) still shows, as a FAIL that says why."""
    return row(what, f"not measured: {why}", "-", float("nan"), "-", False)


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = ["what", "measured", "baseline", "ratio", "budget", "result"]
    body = []
    for r in rows:
        ratio = r.get("ratio")
        rtxt = "-" if ratio is None or ratio != ratio else f"{ratio:.2f}"
        body.append([str(r.get("what", "?")), str(r.get("measured", "")), str(r.get("baseline", "")), rtxt,
                     str(r.get("budget", "")), "PASS" if r.get("ok") else "FAIL"])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(b) for b in body]
    return "\n".join(out)


def machine_line() -> str:
    try:
        with open("/proc/meminfo") as f:
            total_kb = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
        ram = f"{total_kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", load average {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (f"machine: {cores} cores{f' ({cpu})' if cpu else ''}, {ram}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}{load}")


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(format_table(rows))
    print(machine_line())


# ---- databases ------------------------------------------------------------------------------
def orderq(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The real CLI, in its own process; raises with its stderr if it fails."""
    exe = Path(sys.executable).parent / "orderq"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for k in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        env.pop(k, None)
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"orderq {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def copy_db(src: Path, dest: Path) -> Path:
    """A consistent copy (SQLite backup API), in WAL mode like the original."""
    s = sqlite3.connect(src)
    d = sqlite3.connect(dest)
    s.backup(d)
    d.execute("PRAGMA journal_mode=WAL")
    d.close()
    s.close()
    return dest
