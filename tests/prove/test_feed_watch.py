"""The change feed really watches the files: it must not silently fall back to polling.

A float `rust_timeout` once made watchfiles raise inside the watcher, so every session polled
every 250 ms and change propagation missed its budget (bench/bench_propagation.py).
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.feed_sqlite import SqliteFeed
from db.service import Desk
from db.store import Store


@pytest.mark.sqlite_only("SQLite's change detection watches the -wal file; PostgreSQL's: tests/pg/test_pg_feed.py")
async def test_the_feed_watches_and_delivers_another_connections_change(demo_db: Path) -> None:
    store = Store.open(demo_db)
    feed = SqliteFeed(store.conn, store.path)
    got: list = []

    async def consume() -> None:
        async for batch in feed.batches():
            got.extend(batch)
            feed.stop()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(feed.started.wait(), 10)  # the watcher (or the poll) is running
    other = Desk.open(demo_db, "alice")
    claimed = other.orders.claim_next()
    other.store.close()
    await asyncio.wait_for(task, timeout=30)
    store.close()
    assert claimed is not None
    assert [e.ref for e in got if e.action == "claim"] == [claimed.number]
    assert feed.mode == "watch", "the feed fell back to polling although inotify is available"
