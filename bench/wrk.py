"""Drive an HTTP endpoint with wrk and read its figures: a C load generator, because a Python client on
the same 2 cores eats the CPU the server needs (NOTES.md: a bare FastAPI endpoint measured 488 req/s
and p99 181 ms with httpx, 1,447 req/s and p99 21.7 ms with wrk). The request bodies and the count of
non-201 answers come from a Lua script (bench/api_orders.lua); latencies from `--latency`."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class WrkRun:
    requests: int
    rate: float  # requests/s over the run, as wrk's "Requests/sec"
    p50: float  # seconds
    p75: float
    p90: float
    p99: float
    non_2xx: int  # wrk's own "Non-2xx or 3xx responses" (statuses over 399)
    non_201: int  # any status but 201, counted by the script's response()
    first_bad: str
    socket_errors: int  # connect, read, write and timeout


def available() -> str | None:
    return shutil.which("wrk")


def parse(out: str) -> WrkRun:
    """wrk's report with --latency, plus the script's @@WRK line; raises if a figure is missing."""
    def need(pattern: str) -> re.Match:
        m = re.search(pattern, out, re.M)
        if not m:
            raise RuntimeError(f"wrk output has no {pattern!r}: {out[-400:]!r}")
        return m

    pct = {int(p): float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$",
                                                                  out, re.M)}
    if set(pct) != {50, 75, 90, 99}:
        raise RuntimeError(f"wrk output has no latency distribution: {out[-400:]!r}")
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    mine = need(r"^@@WRK non201=(\d+) first=(.*)$")
    return WrkRun(requests=int(need(r"^\s+(\d+) requests in ").group(1)),
                  rate=float(need(r"^Requests/sec:\s+([\d.]+)").group(1)),
                  p50=pct[50], p75=pct[75], p90=pct[90], p99=pct[99],
                  non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
                  non_201=int(mine.group(1)), first_bad=mine.group(2).strip(),
                  socket_errors=sum(int(x) for x in sock.groups()) if sock else 0)


def run(url: str, script: Path, args: list[str], *, connections: int, threads: int, seconds: float,
        timeout_s: int = 30) -> WrkRun:
    cmd = [available() or "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s}s",
           "--latency", "-s", str(script), url, "--", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout_s + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk exited {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")
    return parse(p.stdout)
