"""The change feed: "events with id > my cursor", woken as soon as another process commits.

Change detection lives here and only here (on PostgreSQL it would be LISTEN/NOTIFY).
- An inotify watch on the database's folder (`db.inotify`), filtered to the main file and its
  -wal, wakes the feed the moment a write lands; `PRAGMA data_version` on the feed's long-lived
  connection confirms that another connection committed. It is read from the event loop itself
  (`add_reader`): an idle session wakes for nothing. (watchfiles' `awatch` woke every `step`, 10 ms,
  to look at its stop event: 5 ms of CPU a second per idle session, issue 14.) A slow look every
  few seconds stays as a safety net.
- When no watcher can start (inotify instances are scarce: 128 per user here), it polls
  `data_version` every 250 ms instead.
- `poke()` wakes it for this process's own commits, which data_version never reports.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from db import events

if TYPE_CHECKING:
    from core.models import Event

log = logging.getLogger("orderq.feed")

POLL_INTERVAL_S = 0.25
#: with a watcher, look anyway this often (a write the watch could not see, e.g. a moved folder)
WATCH_SAFETY_S = 5.0
#: after the first write of a commit, wait this long for its other writes before reading
WATCH_SETTLE_S = 0.015


class ChangeFeed:
    def __init__(self, conn: sqlite3.Connection, path: Path, cursor: int | None = None, *, use_watcher: bool = True) -> None:
        self.conn = conn
        self.path = Path(path).resolve()
        self.cursor = events.last_id(conn) if cursor is None else cursor
        # ORDERQ_FEED=poll: poll as if no inotify instance were left (bench_fanout measures that case)
        self.use_watcher = use_watcher and os.environ.get("ORDERQ_FEED") != "poll"
        self.mode = "starting"
        self._wake = asyncio.Event()
        #: set once the watcher (or the poller) is running
        self.started = asyncio.Event()
        self._stop = asyncio.Event()
        self._last_version = self._data_version()
        self._poked = False

    def _data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def poke(self) -> None:
        """Wake for this process's own commit, which data_version never reports."""
        self._poked = True
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def pending(self) -> list[Event]:
        """Events since the cursor, advancing it. Cheap when nothing changed (one PK lookup)."""
        new = events.since(self.conn, self.cursor)
        if new:
            self.cursor = new[-1].id
        return new

    async def _watch(self) -> None:
        from db.inotify import DirWatch

        watch = DirWatch(self.path.parent, {self.path.name, self.path.name + "-wal"})  # OSError: no instance left
        loop = asyncio.get_running_loop()

        def readable() -> None:
            if watch.changed():
                self._wake.set()

        loop.add_reader(watch.fd, readable)
        self.mode = "watch"
        self.started.set()
        self._wake.set()  # a commit that landed while the watch was being set up is not missed
        try:
            while not self._stop.is_set():
                await asyncio.sleep(WATCH_SAFETY_S)
                self._wake.set()
        finally:
            loop.remove_reader(watch.fd)
            watch.close()

    async def _poll(self) -> None:
        self.mode = "poll"
        self.started.set()
        while not self._stop.is_set():
            await asyncio.sleep(POLL_INTERVAL_S)
            self._wake.set()

    async def _waker(self) -> None:
        if self.use_watcher:
            try:
                await self._watch()
                return
            except Exception as e:  # noqa: BLE001 - no inotify, limit reached, odd filesystem
                log.info("change feed falls back to polling: %s", e)
        await self._poll()

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Yield each non-empty batch of new events until stop()."""
        waker = asyncio.create_task(self._waker())
        try:
            while not self._stop.is_set():
                await self._wake.wait()
                if self.mode == "watch" and not self._poked:
                    # one commit is several writes to -wal, each an inotify event: read once for all
                    await asyncio.sleep(WATCH_SETTLE_S)
                self._wake.clear()
                if self._stop.is_set():
                    break
                if waker.done() and not self._stop.is_set():
                    # the watcher died (folder gone, inotify error): keep going by polling
                    waker = asyncio.create_task(self._poll())
                version = self._data_version()
                changed = version != self._last_version or self._poked
                self._last_version = version
                self._poked = False
                if not changed:
                    continue
                batch = self.pending()
                if batch:
                    yield batch
        finally:
            self._stop.set()
            waker.cancel()
            try:
                await waker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
