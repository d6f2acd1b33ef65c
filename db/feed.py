"""The change feed: "events with id > my cursor", woken as soon as another process commits.

What is the same on every backend lives here: the cursor, the wake-up, `poke()` for this process's
own commits, and the feed's state. How a feed learns that *another* process committed differs per
backend, and lives in one place each, chosen by `open_feed`:
- SQLite (db.feed_sqlite): an inotify watch on the database's folder, confirmed by
  `PRAGMA data_version`; polling data_version when no watch can start;
- PostgreSQL (db.pg.feed): LISTEN on a dedicated autocommit connection, NOTIFY being only a hint
  (the feed still reads "events with id > cursor", and looks anyway every few seconds); or
  poll-only (`ORDERQ_FEED=poll`), for pgbouncer in transaction mode, which breaks LISTEN.

State (`state`, reported to `on_state` when it changes): the backend's mode ("watch", "poll",
"listen") while it can reach the database, "reconnecting" while it cannot. A lost connection is
not an error of the feed: it retries with backoff by itself and, once back, reads everything since
its cursor, so nothing committed meanwhile is missed (the cursor only moves past events read).

`change_signal(store)` is the same detection for a synchronous loop (the delivery worker).
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Protocol

from db import events

if TYPE_CHECKING:
    from core.models import Event
    from db.store import Store

log = logging.getLogger("orderq.feed")

RECONNECTING = "reconnecting"
#: the modes a healthy feed can be in (the queue screen shows "● live" for these)
LIVE_MODES = ("watch", "poll", "listen")
#: waits between tries while the database cannot be reached: quick at first (a restart takes 1–2 s),
#: then once a second (a refused connection costs the server next to nothing); each wait is
#: jittered by ±20% so that a hundred sessions do not knock in step
BACKOFF_S = (0.1, 0.25, 0.5, 1.0)


def poll_only() -> bool:
    """`ORDERQ_FEED=poll`: never watch or LISTEN, only poll (pgbouncer in transaction mode; benches)."""
    return os.environ.get("ORDERQ_FEED") == "poll"


def backoff(tries: int) -> float:
    return BACKOFF_S[min(tries, len(BACKOFF_S) - 1)] * random.uniform(0.8, 1.2)


class ChangeFeed:
    """The backend-neutral loop; a backend supplies `_waker` (what wakes it), and may refine
    `_changed` (a cheap look before reading), `_settle` and `_lost` (is this error a lost connection?)."""

    #: how the feed runs when the backend cannot say more (before the waker starts)
    mode = "starting"
    #: the least time between two reads, unless poked (this process's own commit): a burst of other
    #: processes' commits is read once, as one batch, and never missed (the read after the gap has
    #: everything since the cursor). A live screen sets it (issue 14: every session reads every
    #: change, so a read saved is saved a hundred times); 0 reads at every wake-up.
    min_gap = 0.0

    def __init__(self, conn, cursor: int | None = None,  # noqa: ANN001 - the store's connection, either backend
                 *, on_state: Callable[[str], None] | None = None) -> None:
        self.conn = conn
        self.cursor = events.last_id(conn) if cursor is None else cursor
        self.on_state = on_state
        self.mode = "starting"
        self._wake = asyncio.Event()
        self._poke = asyncio.Event()  # ends a gap (poke, stop); other wake-ups wait for its end
        #: set once the waker is running
        self.started = asyncio.Event()
        self._stop = asyncio.Event()
        self._poked = False
        self._waker_lost = False
        self._reader_lost = False
        self._read_tries = 0
        self._last_read = float("-inf")
        self._said = self.state

    # ---- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return RECONNECTING if (self._waker_lost or self._reader_lost) else self.mode

    def _report(self) -> None:
        now = self.state
        if now != self._said:
            self._said = now
            log.info("change feed: %s", now)
            if self.on_state is not None:
                self.on_state(now)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._report()

    def set_waker_lost(self, lost: bool) -> None:
        self._waker_lost = lost
        self._report()

    # ---- waking -------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def poke(self) -> None:
        """Wake for this process's own commit, which other processes' detection may not report."""
        self._poked = True
        self._poke.set()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pending(self) -> list[Event]:
        """Events since the cursor, advancing it. Cheap when nothing changed (one PK lookup)."""
        new = events.since(self.conn, self.cursor)
        if new:
            self.cursor = new[-1].id
        return new

    async def poll_every(self, interval: float) -> None:
        """A waker that only polls: wake every `interval` (mode "poll")."""
        self.set_mode("poll")
        self.started.set()
        while not self.stopping:
            await asyncio.sleep(interval)
            self.wake()

    # ---- what a backend supplies ---------------------------------------------------------------------
    async def _waker(self) -> None:
        raise NotImplementedError

    async def _restart_waker(self) -> None:
        """The waker ended on its own (its watch died): what keeps the feed going."""
        await asyncio.sleep(backoff(2))
        await self._waker()

    def _changed(self, poked: bool) -> bool:
        """A cheap look before the read: did anything change since the last one?"""
        return True

    async def _settle(self, poked: bool) -> None:
        """Wait, after a wake-up, for the rest of the commit that caused it (nothing by default)."""

    def _read_done(self, gap: float) -> None:
        """A read just happened, and the next waits `gap` s unless poked (the gap after a read that
        found changes; 0 otherwise): a backend that stopped listening when it was woken may listen
        again then, and what came meanwhile wakes it once. (Each commit is several file writes;
        heard one by one, during the settle and the gap, they woke every session three times a change
        for a read that could not happen yet: issue 14.) Nothing by default."""

    def _lost(self, e: BaseException) -> bool:
        """Is `e` a lost connection (shown as "reconnecting" and retried), not a failure of the feed?"""
        return False

    # ---- the loop ---------------------------------------------------------------------------------------
    async def _read(self) -> list[Event] | None:
        """The new events, or None when the database cannot be reached (retried after a backoff)."""
        poked, self._poked = self._poked, False
        try:
            if not self._changed(poked):
                batch: list[Event] = []
            else:
                batch = self.pending()
        except Exception as e:
            if not self._lost(e):
                raise
            self._poked = self._poked or poked
            self._reader_lost = True
            self._report()
            wait = backoff(self._read_tries)
            self._read_tries += 1
            log.info("change feed cannot read (%s); again in %.2f s", e, wait)
            asyncio.get_running_loop().call_later(wait, self._wake.set)
            return None
        self._read_tries = 0
        if self._reader_lost:
            self._reader_lost = False
            self._report()
        return batch

    async def _gap(self) -> None:
        """Hold the next read until `min_gap` after the last one that found changes; a poke or stop()
        reads at once.
        Wake-ups meanwhile are folded into that one read."""
        left = self._last_read + self.min_gap - asyncio.get_running_loop().time()
        if left <= 0 or self._poked or self._stop.is_set():
            return
        self._poke.clear()
        try:
            await asyncio.wait_for(self._poke.wait(), left)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()  # what woke it meanwhile is in the read that follows

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Yield each non-empty batch of new events until stop()."""
        waker = asyncio.create_task(self._waker())
        try:
            while not self._stop.is_set():
                await self._wake.wait()
                await self._settle(self._poked)
                self._wake.clear()
                await self._gap()
                if self._stop.is_set():
                    break
                if waker.done() and not self._stop.is_set():
                    if not waker.cancelled() and waker.exception() is not None:
                        log.info("change feed's waker stopped: %s", waker.exception())
                    waker = asyncio.create_task(self._restart_waker())
                batch = await self._read()
                self._read_done(self.min_gap if batch else 0.0)
                if batch:
                    self._last_read = asyncio.get_running_loop().time()  # a look that found nothing costs no gap
                    yield batch
        finally:
            self._stop.set()
            waker.cancel()
            try:
                await waker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


class ChangeSignal(Protocol):
    """Change detection for a synchronous loop: `arm()` before reading the state the loop acts
    on, then `wait()` until another process may have changed it."""

    def arm(self) -> None: ...

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """True: something may have changed (or the connection came back); False: timeout or stop."""
        ...

    def close(self) -> None: ...


#: the module that detects changes on a backend, named by the connection class as CHANGE_DETECTION
#: (a sqlite3.Connection names none: SQLite's is the default)
SQLITE_DETECTION = "db.feed_sqlite"


def _detection(store: Store):  # noqa: ANN202 - a module with feed() and change_signal()
    return importlib.import_module(getattr(store.conn, "CHANGE_DETECTION", SQLITE_DETECTION))


def open_feed(store: Store, cursor: int | None = None, *,
              on_state: Callable[[str], None] | None = None) -> ChangeFeed:
    """The change feed for `store`'s backend (the cursor is taken now unless given)."""
    return _detection(store).feed(store, cursor=cursor, on_state=on_state)


def change_signal(store: Store) -> ChangeSignal:
    """The change detection of `store`'s backend, for a synchronous loop."""
    return _detection(store).change_signal(store)
