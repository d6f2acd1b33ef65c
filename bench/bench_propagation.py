"""Change in one process → seen in another session (SPEC §5, third row).

A writer process makes a change through the service layer every ~40 ms (a supervisor's due-time
override: one transaction, one event). Watching sessions, each its own process with its own
Store, follow `db.feed.open_feed` and, like a queue screen, re-read a 50-row window of the
queue for each batch. Latency = (window re-read done) − (writer's command returned), per event
per session; p95 reported.

Baseline, same run, same sessions: a bare loop that polls `PRAGMA data_version` every 1 ms and
then reads the new events and the same window.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import ms, orderq, percentile, print_rows, row
# imported before the fork, so no session pays for imports while it is being timed
from db.events import last_id
from db.feed import open_feed
from db.orders_read import QueueFilter, window
from db.service import Desk
from db.store import Store

CHANGES = int(os.environ.get("ORDERQ_BENCH_PROP_CHANGES", "120"))
GAP_S = 0.04
SETTLE_S = 1.5
BUDGETS = {1: 0.100, 20: 0.250}


def _refresh(conn: sqlite3.Connection) -> None:
    window(conn, QueueFilter(states=("queued", "in_progress", "on_hold")), 0, 50)


def _feed_session(db: str, ready: mp.Queue, out: mp.Queue, stop) -> None:
    async def main() -> list[tuple[int, float]]:
        store = Store.open(db)
        feed = open_feed(store)
        seen: list[tuple[int, float]] = []

        async def consume() -> None:
            async for batch in feed.batches():
                _refresh(store.conn)
                t = time.time()
                seen.extend((e.id, t) for e in batch)

        task = asyncio.create_task(consume())
        await asyncio.wait_for(feed.started.wait(), 10)
        ready.put(feed.mode)
        while not stop.is_set():
            await asyncio.sleep(0.05)
        feed.stop()
        await task
        store.close()
        return seen

    out.put(asyncio.run(main()))


def read_new(conn, cursor: int, seen: list[tuple[int, float]]) -> int:  # noqa: ANN001 - either backend
    """A bare baseline's read: the new event ids, then the session's window; each id is seen now."""
    ids = [r[0] for r in conn.execute("SELECT id FROM events WHERE id > ? ORDER BY id", (cursor,))]
    if not ids:
        return cursor
    _refresh(conn)
    t = time.time()
    seen.extend((i, t) for i in ids)
    return ids[-1]


def _poll_session(db: str, ready: mp.Queue, out: mp.Queue, stop) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    cursor = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    last = conn.execute("PRAGMA data_version").fetchone()[0]
    seen: list[tuple[int, float]] = []
    ready.put("poll 1 ms")
    while not stop.is_set():
        v = conn.execute("PRAGMA data_version").fetchone()[0]
        if v != last:
            last = v
            cursor = read_new(conn, cursor, seen)
        time.sleep(0.001)
    conn.close()
    out.put(seen)


def _writer(db: str, out: mp.Queue) -> None:
    desk = Desk.open(db, "sam")
    numbers = [r[0] for r in desk.store.conn.execute(
        "SELECT number FROM orders WHERE state = 'queued' ORDER BY id LIMIT 50")]
    sent: list[tuple[int, float]] = []
    for i in range(CHANGES):
        due = desk.now() + timedelta(minutes=30 + i)
        desk.orders.override(numbers[i % len(numbers)], reason="bench", due_at=due)
        t = time.time()
        sent.append((last_id(desk.store.conn), t))
        time.sleep(GAP_S * (0.5 + (i * 7919 % 100) / 100))  # 20–60 ms apart, not in step with any poll
    desk.store.close()
    out.put(sent)


def measure(db: Path, session, n: int) -> tuple[list[float], list[str]]:  # noqa: ANN001
    ctx = mp.get_context("fork")
    ready, out, wout = ctx.Queue(), ctx.Queue(), ctx.Queue()
    stop = ctx.Event()
    ps = [ctx.Process(target=session, args=(str(db), ready, out, stop)) for _ in range(n)]
    for p in ps:
        p.start()
    modes = [ready.get(timeout=60) for _ in ps]
    time.sleep(SETTLE_S)
    w = ctx.Process(target=_writer, args=(str(db), wout))
    w.start()
    sent = dict(wout.get(timeout=CHANGES * GAP_S * 3 + 60))
    w.join()
    time.sleep(1.0)  # let the sessions catch up
    stop.set()
    lat: list[float] = []
    results = [out.get(timeout=60) for _ in ps]
    for p in ps:
        p.join()
    missing = 0
    for seen in results:
        got = dict(seen)
        for eid, t in sent.items():
            if eid in got:
                lat.append(max(0.0, got[eid] - t))
            else:
                missing += 1
    if missing:
        raise RuntimeError(f"{missing} changes never reached a session")
    return lat, modes


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="orderq-bench-prop-") as tmp:
        db = Path(tmp) / "prop.db"
        orderq("--db", str(db), "demo", "--orders", "2000", "--seed", "6")
        for n in (1, 20):
            base, _ = measure(db, _poll_session, n)
            lat, modes = measure(db, _feed_session, n)
            p95, b95 = percentile(lat, 95), percentile(base, 95)
            how = ", ".join(f"{modes.count(m)} {m}" for m in sorted(set(modes)))
            cores = len(os.sched_getaffinity(0))
            rows.append(row(f"change → seen, {n} session{'s' if n > 1 else ''} ({how}; {cores} cores): p95",
                            ms(p95), f"data_version 1 ms poll p95 {ms(b95)}", p95 / b95 if b95 else float("nan"),
                            f"p95 ≤ {BUDGETS[n] * 1000:.0f} ms", p95 <= BUDGETS[n]))
    return rows


if __name__ == "__main__":
    print_rows(run())
