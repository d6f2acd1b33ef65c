"""Wallboard and `orderq kpi` recompute cost on a demo desk, against one scan of the event log.

The wallboard recomputes on every change batch, at most 4 times a second, so one recompute must
fit in its 250 ms slot. The event-log scan is what a naive board would pay per tick (informational).
Runnable alone: python -m bench.bench_kpi  (ORDERQ_BENCH_KPI_ORDERS, default 20000)
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import percentile


def _time(f, n: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run() -> list[dict]:
    from db.demo import generate
    from db.service import Desk
    from db.store import Store

    orders = int(os.environ.get("ORDERQ_BENCH_KPI_ORDERS", "20000"))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.db"
        store = Store.open(path, create=True)
        generate(store, orders=orders, seed=5)
        store.close()
        desk = Desk.open(path, "sam")
        conn = desk.store.conn
        w = desk.kpi.today()
        desk.kpi.wallboard()  # warm the page cache and the claim→release pairs
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        scan = _time(lambda: conn.execute("SELECT COUNT(*), SUM(length(data)) FROM events").fetchone(), 10)
        board = _time(desk.kpi.wallboard, 30)
        report = _time(lambda: desk.kpi.report(w), 10)
        desk.store.close()
    base = statistics.median(scan)
    rows = []
    for what, xs in ((f"wallboard recompute, {orders} orders", board), (f"kpi report (today), {orders} orders", report)):
        p95, med = percentile(xs, 95), statistics.median(xs)
        rows.append({
            "what": what,
            "measured": f"median {med:.1f} ms, p95 {p95:.1f} ms",
            "baseline": f"{base:.1f} ms (median of one scan of {events} events)",
            "ratio": round(med / base, 3) if base else 0.0,
            "budget": "p95 ≤ 250 ms (one 4/s refresh slot); ratio = median ÷ one event-log scan, info",
            "ok": p95 <= 250,
        })
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
