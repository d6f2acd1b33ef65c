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
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KEYS = ("what", "measured", "baseline", "ratio", "budget", "ok")


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


def mb(nbytes: float) -> str:
    return f"{nbytes / 1024 / 1024:.1f} MB"


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


# ---- memory ---------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(pid: int) -> int:
    """RSS of a process and all its descendants, now."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += rss_bytes(p)
        stack += _children(p)
    return total


class PeakRSS:
    """Sample a process tree's RSS in a thread until stopped; `.peak` is the largest sum seen."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def time_subprocess(cmd: Sequence[str], *, timeout: float = 600, env: dict[str, str] | None = None,
                    cwd: str | Path | None = None, input: str | None = None) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run a command to completion: (wall seconds, peak RSS of its tree in bytes, the completed process)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    t0 = time.perf_counter()
    p = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                         cwd=str(cwd or REPO), stdin=subprocess.PIPE if input is not None else None)
    with PeakRSS(p.pid) as peak:
        out, err = p.communicate(input=input, timeout=timeout)
    wall = time.perf_counter() - t0
    return wall, peak.peak, subprocess.CompletedProcess(list(cmd), p.returncode, out, err)


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
