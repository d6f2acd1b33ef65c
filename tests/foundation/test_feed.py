"""The change feed wakes on another process's commit; without a watcher it still works by polling."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from db.connection import connect
from db.feed import ChangeFeed, open_feed
from db.feed_sqlite import SqliteFeed
from db.store import Store


async def _first_batch(feed: SqliteFeed, timeout: float = 10.0) -> list:
    async def first() -> list:
        async for batch in feed.batches():
            return batch
        return []

    try:
        return await asyncio.wait_for(first(), timeout)
    finally:
        feed.stop()


def _follow(feed: ChangeFeed) -> tuple[list[list], asyncio.Task]:
    """The feed's batches as they come, read by a task (stopped by feed.stop())."""
    batches: list[list] = []

    async def follow() -> None:
        async for batch in feed.batches():
            batches.append(batch)

    return batches, asyncio.create_task(follow())


async def _until_batches(batches: list, n: int) -> None:
    """Until `n` batches came (a deadline of 10 s: the caller's assert says what is missing)."""
    for _ in range(200):
        if len(batches) >= n:
            return
        await asyncio.sleep(0.05)


async def _claim_in_other_process(db: Path) -> tuple[int, bytes]:
    exe = Path(sys.executable).parent / "orderq"
    proc = await asyncio.create_subprocess_exec(str(exe), "--db", str(db), "claim", "--user", "bob", "--json",
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = await proc.communicate()
    return proc.returncode or 0, err


@pytest.mark.sqlite_only("SQLite's change detection (the -wal file watch, PRAGMA data_version); PostgreSQL's: tests/pg/test_pg_feed.py")
@pytest.mark.parametrize("use_watcher", [True, False], ids=["watchfiles", "polling"])
async def test_feed_sees_another_process_commit(demo_db: Path, use_watcher: bool) -> None:
    conn = connect(demo_db)
    feed = SqliteFeed(conn, demo_db, use_watcher=use_watcher)
    start = feed.cursor
    task = asyncio.create_task(_first_batch(feed))
    await asyncio.wait_for(feed.started.wait(), 10)
    rc, err = await _claim_in_other_process(demo_db)
    assert rc == 0, err
    batch = await task
    assert feed.mode == ("watch" if use_watcher else "poll")
    assert [e.action for e in batch] == ["claim"]
    assert batch[0].actor == "bob" and batch[0].id > start
    conn.close()


@pytest.mark.sqlite_only("SQLite's change detection (the -wal file watch, PRAGMA data_version); PostgreSQL's: tests/pg/test_pg_feed.py")
async def test_poke_reports_own_commits(demo_db: Path) -> None:
    from db.service import Desk
    from db.store import Store

    store = Store.open(demo_db)
    desk = Desk.for_user(store, "alice")
    feed = SqliteFeed(store.conn, demo_db, use_watcher=False)
    task = asyncio.create_task(_first_batch(feed))
    await asyncio.sleep(0)
    desk.orders.claim_next()
    feed.poke()
    batch = await task
    assert batch and batch[-1].actor == "alice"
    store.close()


async def test_a_burst_within_the_gap_is_read_once_and_a_poke_reads_at_once(demo_db: Path, monkeypatch) -> None:  # noqa: ANN001
    """min_gap (issue 14): after a read, other processes' commits within the gap are not read one
    by one; they come as one batch, at the end of the gap or (here) at once on a poke. On SQLite
    the -wal watch is not even heard during the gap: a commit is several writes, and each heard
    alone woke every session for a read that could not happen yet (about three a change)."""
    import db.feed_sqlite as feed_sqlite

    monkeypatch.setattr(feed_sqlite, "WATCH_SAFETY_S", 600.0)  # no safety look during the test
    store = Store.open(demo_db)  # either backend: the gap is the backend-neutral loop's (db.feed)
    feed = open_feed(store)
    feed.min_gap = 600.0  # longer than the test: only the poke can end it
    wakes = [0]
    wake = feed.wake

    def counted() -> None:  # the feed's own wake-up, counted (the watch calls it for each write it hears)
        wakes[0] += 1
        wake()

    feed.wake = counted  # type: ignore[method-assign]
    batches, task = _follow(feed)
    try:
        await asyncio.wait_for(feed.started.wait(), 10)
        rc, err = await _claim_in_other_process(demo_db)  # the first read after a quiet spell: at once
        assert rc == 0, err
        await _until_batches(batches, 1)
        assert [[e.action for e in b] for b in batches] == [["claim"]]
        woken = wakes[0]
        for _ in range(2):
            rc, err = await _claim_in_other_process(demo_db)
            assert rc == 0, err
        assert len(batches) == 1  # both commits came; neither was read yet
        if feed.mode == "watch":
            await asyncio.sleep(0.2)  # let any write the watch hears reach the loop (none must)
            assert wakes[0] == woken, "the watch woke the feed during the gap"
        feed.poke()
        await _until_batches(batches, 2)
        assert [[e.action for e in b] for b in batches] == [["claim"], ["claim", "claim"]]
    finally:
        feed.stop()
        await asyncio.wait_for(task, 10)
        store.close()


async def test_commits_within_the_gap_are_read_when_it_ends(demo_db: Path) -> None:
    """No change is dropped by the gap: the read after it has everything since the cursor."""
    store = Store.open(demo_db)  # either backend: the gap is the backend-neutral loop's (db.feed)
    feed = open_feed(store)
    feed.min_gap = 0.5
    seen: list[str] = []

    async def follow() -> None:
        async for batch in feed.batches():
            seen.extend(e.action for e in batch)

    task = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(feed.started.wait(), 10)
        for _ in range(3):
            rc, err = await _claim_in_other_process(demo_db)
            assert rc == 0, err
        for _ in range(200):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.05)
        assert seen == ["claim"] * 3
    finally:
        feed.stop()
        await asyncio.wait_for(task, 10)
        store.close()
