"""Change detection on SQLite: how a session learns that another process committed.

- An inotify watch on the database's folder (`db.inotify`), filtered to the main file and its
  -wal, wakes the feed the moment a write lands; `PRAGMA data_version` on the feed's long-lived
  connection confirms that another connection committed. It is read from the event loop itself
  (`add_reader`): an idle session wakes for nothing. (watchfiles' `awatch` woke every `step`, 10 ms,
  to look at its stop event: 5 ms of CPU a second per idle session, issue 14.) A slow look every
  few seconds stays as a safety net. Once a write wakes it, the watch is not heard until the read
  that follows, nor during the gap after a read that found changes (`ChangeFeed.min_gap`): a commit
  is several writes, and each heard alone was a wake-up of every session for nothing (issue 14).
- When no watcher can start (inotify instances are scarce: 128 per user here), or with
  `ORDERQ_FEED=poll`, it polls `data_version` every 250 ms instead.
- `poke()` wakes it for this process's own commits, which data_version never reports.
- The delivery worker (a synchronous loop) polls data_version: `DataVersionSignal`.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from db.feed import ChangeFeed, poll_only

if TYPE_CHECKING:
    from db.store import Store

log = logging.getLogger("orderq.feed")

POLL_INTERVAL_S = 0.25
#: with a watcher, look anyway this often (a write the watch could not see, e.g. a moved folder)
WATCH_SAFETY_S = 5.0
#: after the first write of a commit, wait this long for its other writes before reading
WATCH_SETTLE_S = 0.015
#: how often a synchronous loop (the delivery worker) looks at data_version while it waits
SIGNAL_POLL_S = 0.1


def data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class SqliteFeed(ChangeFeed):
    def __init__(self, conn: sqlite3.Connection, path: Path, cursor: int | None = None, *, use_watcher: bool = True,
                 on_state: Callable[[str], None] | None = None) -> None:
        super().__init__(conn, cursor, on_state=on_state)
        self.path = Path(path).resolve()
        # ORDERQ_FEED=poll: poll as if no inotify instance were left (bench_fanout measures that case)
        self.use_watcher = use_watcher and not poll_only()
        self._last_version = data_version(conn)
        #: while watching: (the watch's fd, its callback), for `_deaf`; when it listens again
        self._reader: tuple[int, Callable[[], None]] | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._deafened = False

    def _changed(self, poked: bool) -> bool:
        version = data_version(self.conn)
        changed = version != self._last_version or poked
        self._last_version = version
        return changed

    async def _settle(self, poked: bool) -> None:
        if self.mode == "watch" and not poked:
            # one commit is several writes to -wal, each an inotify event: read once for all
            await asyncio.sleep(WATCH_SETTLE_S)

    async def _watch(self) -> None:
        from db.inotify import DirWatch

        watch = DirWatch(self.path.parent, {self.path.name, self.path.name + "-wal"})  # OSError: no instance left
        loop = asyncio.get_running_loop()

        def readable() -> None:
            if watch.changed():
                self._deaf()  # until the read this wakes (_read_done): the commit's other writes wait
                self.wake()

        loop.add_reader(watch.fd, readable)
        self._reader = (watch.fd, readable)
        self.set_mode("watch")
        self.started.set()
        self.wake()  # a commit that landed while the watch was being set up is not missed
        try:
            while not self.stopping:
                await asyncio.sleep(WATCH_SAFETY_S)
                self.wake()
        finally:
            self._reader = None
            self._deafened = False
            if self._resume is not None:
                self._resume.cancel()
                self._resume = None
            loop.remove_reader(watch.fd)
            watch.close()

    def _deaf(self) -> None:
        """Stop hearing the watch until `_read_done` says when to listen again: the writes
        meanwhile wait in the kernel's queue (folded there when alike) and wake the feed once."""
        if self._reader is not None and not self._deafened:
            self._deafened = True
            asyncio.get_running_loop().remove_reader(self._reader[0])

    def _read_done(self, gap: float) -> None:
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._reader is None:
            return
        if gap <= 0:
            self._listen_again()
            return
        self._deaf()
        self._resume = asyncio.get_running_loop().call_later(gap, self._listen_again)

    def _listen_again(self) -> None:
        self._resume = None
        if self._reader is not None and self._deafened:
            self._deafened = False
            asyncio.get_running_loop().add_reader(*self._reader)  # pending writes: readable at once

    async def _poll(self) -> None:
        await self.poll_every(POLL_INTERVAL_S)

    async def _waker(self) -> None:
        if self.use_watcher:
            try:
                await self._watch()
                return
            except Exception as e:  # noqa: BLE001 - no inotify, limit reached, odd filesystem
                log.info("change feed falls back to polling: %s", e)
        await self._poll()

    async def _restart_waker(self) -> None:
        # the watcher died (folder gone, inotify error): keep going by polling
        await self._poll()


class DataVersionSignal:
    """For a synchronous loop: has another connection committed since `arm()`? (3 µs a look)"""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._seen = data_version(conn)

    def arm(self) -> None:
        self._seen = data_version(self.conn)

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or stop.wait(min(SIGNAL_POLL_S, left)):
                return False
            if data_version(self.conn) != self._seen:
                return True
        return False

    def close(self) -> None:
        pass


def feed(store: Store, cursor: int | None = None, *, on_state: Callable[[str], None] | None = None) -> SqliteFeed:
    return SqliteFeed(store.conn, store.path, cursor, on_state=on_state)


def change_signal(store: Store) -> DataVersionSignal:
    return DataVersionSignal(store.conn)
