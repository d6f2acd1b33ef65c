"""Change in one process → seen in another session, on PostgreSQL (issue 18 §9, "Propagation").

The same measurement as bench_propagation (SQLite), on a throwaway PostgreSQL server started here
(tests/pg_server.py: initdb and pg_ctl into a temp dir, fsync off): a writer process changes a
due time through the service layer every 20–60 ms (one transaction, one event, one NOTIFY);
1 and 20 watching sessions, each its own process with its own Store, follow `db.feed.open_feed`
(LISTEN on a second connection) and re-read a 50-row queue window per batch. Latency = (window
re-read done) − (writer's command returned), per event per session; p95.

Baseline, same run, same sessions, same writer: a bare psycopg loop that blocks in LISTEN
(`notifies()`, no event loop), then reads the new events and the same window. What the feed
costs above it is orderq's own (asyncio, the adapter, the feed's bookkeeping).
Also measured: poll-only (`ORDERQ_FEED=poll`, 250 ms) with 20 sessions, for pgbouncer desks;
no budget, it is the price of having no LISTEN.
"""
from __future__ import annotations

import os

from bench.bench_propagation import BUDGETS, _feed_session, measure, read_new
from bench.common import ms, orderq, percentile, row
from db.pg.link import CHANNEL


def _listen_session(url: str, ready, out, stop) -> None:  # noqa: ANN001
    """The bare floor: psycopg blocking in LISTEN, then the same reads as a session."""
    import psycopg

    from db.pg.connection import connect
    from db.pg.schema import ID_TABLES

    conn = connect(url, id_tables=ID_TABLES)  # the window is read as a session reads it
    listener = psycopg.connect(url, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    cursor = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    seen: list[tuple[int, float]] = []
    ready.put("LISTEN, blocking")
    while not stop.is_set():
        if list(listener.notifies(timeout=0.05, stop_after=1)):
            cursor = read_new(conn, cursor, seen)
    listener.close()
    conn.close()
    out.put(seen)


def run() -> list[dict]:
    from tests.pg_server import PgServer

    server = PgServer.start()
    os.environ["PGPASSFILE"] = str(server.passfile)
    rows = []
    try:
        with server.admin() as c:
            c.execute('CREATE DATABASE "prop"')
        url = server.url("prop")
        orderq("--db", url, "init")
        orderq("--db", url, "demo", "--orders", "2000", "--seed", "6")
        cores = len(os.sched_getaffinity(0))
        for n in (1, 20):
            base, _ = measure(url, _listen_session, n)  # type: ignore[arg-type]
            lat, modes = measure(url, _feed_session, n)  # type: ignore[arg-type]
            p95, b95 = percentile(lat, 95), percentile(base, 95)
            how = ", ".join(f"{modes.count(m)} {m}" for m in sorted(set(modes)))
            rows.append(row(f"PostgreSQL change → seen, {n} session{'s' if n > 1 else ''} ({how}; {cores} cores): p95",
                            ms(p95), f"bare LISTEN loop p95 {ms(b95)}", p95 / b95 if b95 else float("nan"),
                            f"p95 ≤ {BUDGETS[n] * 1000:.0f} ms", p95 <= BUDGETS[n]))
        os.environ["ORDERQ_FEED"] = "poll"
        try:
            base, _ = measure(url, _listen_session, 20)  # type: ignore[arg-type]
            lat, modes = measure(url, _feed_session, 20)  # type: ignore[arg-type]
        finally:
            os.environ.pop("ORDERQ_FEED", None)
        p95, b95 = percentile(lat, 95), percentile(base, 95)
        rows.append(row(f"PostgreSQL poll-only (ORDERQ_FEED=poll), 20 sessions ({cores} cores): p95", ms(p95),
                        f"bare LISTEN loop p95 {ms(b95)}", p95 / b95 if b95 else float("nan"),
                        "none (250 ms poll)", True))
    finally:
        server.stop()
    return rows


if __name__ == "__main__":
    from bench.common import print_rows

    print_rows(run())
