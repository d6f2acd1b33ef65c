"""Change detection on PostgreSQL: LISTEN/NOTIFY as a hint, "events with id > cursor" as the truth.

Writers: a write transaction that appended events sends ONE `NOTIFY orderq_events, '<newest id>'`
just before its COMMIT (db.pg.link.NotifyHint: db.events tells the connection the newest id, its
COMMIT sends it). One per transaction, a few bytes: a NOTIFY takes a database-wide lock at commit, which
serialises such commits (NOTES.md), so it is never sent per event.

Readers: each session's feed LISTENs on a dedicated autocommit connection (a second connection
per session; `conn.notifies()` needs autocommit). A notification only wakes the feed, which then
reads the events after its cursor on the store's own connection, so a lost or folded notification
costs latency, never an event; and it looks anyway every SAFETY_S.

- `ORDERQ_FEED=poll`: no LISTEN connection; the feed reads every POLL_S. For pgbouncer in
  transaction mode, where LISTEN does not work (the server connection is handed to someone else
  after every transaction).
- A lost connection (restart, failover, network): the feed says "reconnecting", retries with
  backoff (db.feed.BACKOFF_S), LISTENs again and reads everything since its cursor. TCP keepalives
  notice a server that vanished without closing the socket (a failover) within ~15 s.
- The delivery worker waits on `ListenSignal`, the same thing for a synchronous loop.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg

from db import events
from db.feed import ChangeFeed, backoff, poll_only
from db.pg.link import CHANNEL

if TYPE_CHECKING:
    from db.store import Store

log = logging.getLogger("orderq.feed")

#: with LISTEN, read anyway this often (a hint lost in a failover, a writer that did not notify)
SAFETY_S = 2.0
#: poll-only: read this often
POLL_S = 0.25
#: the listening connection's own settings: fail fast, notice a vanished server (TCP keepalives)
LISTEN_OPTIONS = {
    "autocommit": True,
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "application_name": "orderq feed",
}

#: SQLSTATEs of a server going away: connection exceptions (class 08), and an administrator's or a
#: crash's shutdown (57P01-57P03). A statement or lock timeout (57014, 55P03) is not one.
_GONE_STATES = ("57P01", "57P02", "57P03")


def connection_lost(e: BaseException | None) -> bool:
    """Is `e` (or what it was raised from: the adapter raises sqlite3's exceptions from the driver's,
    and the store its own from those) a lost connection, not a refused statement?"""
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, psycopg.InterfaceError):
            return True
        if isinstance(e, psycopg.OperationalError):
            state = e.sqlstate
            return state is None or state.startswith("08") or state in _GONE_STATES
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def _newest(payload: str) -> int | None:
    try:
        return int(payload)
    except ValueError:
        return None


# ---- the session's feed ----------------------------------------------------------------------------------
class PgFeed(ChangeFeed):
    def __init__(self, conn, conninfo: str, cursor: int | None = None, *, listen: bool = True,  # noqa: ANN001
                 on_state: Callable[[str], None] | None = None) -> None:
        super().__init__(conn, cursor, on_state=on_state)
        self.conninfo = conninfo
        self.listen = listen and not poll_only()

    def _lost(self, e: BaseException) -> bool:
        return connection_lost(e)

    async def _waker(self) -> None:
        if not self.listen:
            await self._poll()
            return
        tries = 0
        while not self.stopping:
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, **LISTEN_OPTIONS)
            except psycopg.Error as e:
                self._lost_listener(e, tries)
                await asyncio.sleep(backoff(tries))
                tries += 1
                continue
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                tries = 0
                self.set_mode("listen")
                self.set_waker_lost(False)
                self.started.set()
                self.wake()  # what was committed before LISTEN (or while the server was away) is read now
                await self._follow(conn)
            except psycopg.Error as e:
                self._lost_listener(e, tries)
                await asyncio.sleep(backoff(tries))
                tries += 1
            finally:
                await _close(conn)

    def _lost_listener(self, e: BaseException, tries: int) -> None:
        if tries == 0:
            log.warning("change feed lost its connection (%s); reconnecting", str(e).strip().splitlines()[0])
        self.set_waker_lost(True)
        self.wake()  # the reader finds out too (and keeps its cursor)

    async def _follow(self, conn: psycopg.AsyncConnection) -> None:
        while not self.stopping:
            async for n in conn.notifies(timeout=SAFETY_S):
                newest = _newest(n.payload)
                if newest is None or newest > self.cursor:
                    self.wake()
            if conn.closed:
                raise psycopg.OperationalError("the listening connection was closed")
            self.wake()  # the safety look
            await conn.execute("SELECT 1")  # a server that is gone shows here, not only at the next NOTIFY

    async def _poll(self) -> None:
        await self.poll_every(POLL_S)


async def _close(conn: psycopg.AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception:  # noqa: BLE001 - it is gone either way
        pass


# ---- a synchronous loop's wait ------------------------------------------------------------------------------
class ListenSignal:
    """The delivery worker's wait: a LISTEN connection of its own, or (poll-only) a look at the
    newest event id every POLL_S. A lost connection is retried inside `wait`; coming back counts
    as a change (the worker looks at the outbox again)."""

    def __init__(self, store: Store, conninfo: str, *, listen: bool = True) -> None:
        self.store = store
        self.conninfo = conninfo
        self.listen = listen and not poll_only()
        self._conn: psycopg.Connection | None = None
        self._seen = 0

    def _newest(self) -> int:
        with self.store.read() as c:
            return events.last_id(c)

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.Connection.connect(self.conninfo, **LISTEN_OPTIONS)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _newest_if_reachable(self) -> int | None:
        try:
            return self._newest()
        except Exception as e:
            if not connection_lost(e):
                raise
            return None

    def arm(self) -> None:
        if not self.listen:
            self._seen = self._newest_if_reachable() or self._seen
            return
        if self._conn is None:
            try:
                self._conn = self._connect()
            except psycopg.Error:
                return  # wait() retries
        try:
            for _ in self._conn.notifies(timeout=0):  # what came before the arm is already seen
                pass
        except psycopg.Error:
            self._drop()

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        tries = 0
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self.listen:
                if stop.wait(min(POLL_S, left)):
                    return False
                newest = self._newest_if_reachable()
                if newest is not None and newest != self._seen:
                    return True
                continue
            if self._conn is None:
                try:
                    self._conn = self._connect()
                    return True  # back: whatever happened meanwhile is looked at now
                except psycopg.Error:
                    stop.wait(min(backoff(tries), left))
                    tries += 1
                    continue
            try:
                # wait on the socket, waking at least every POLL_S to honour `stop`
                for _n in self._conn.notifies(timeout=min(POLL_S, left), stop_after=1):
                    return True
            except psycopg.Error:
                self._drop()
        return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._conn = None

    def close(self) -> None:
        self._drop()


# ---- what db.feed asks of a backend -------------------------------------------------------------------
def _conninfo(store: Store) -> str:
    return store.conn.url  # with its password, if it has one: never shown


def feed(store: Store, cursor: int | None = None, *, on_state: Callable[[str], None] | None = None) -> PgFeed:
    return PgFeed(store.conn, _conninfo(store), cursor, on_state=on_state)


def change_signal(store: Store) -> ListenSignal:
    return ListenSignal(store, _conninfo(store))
