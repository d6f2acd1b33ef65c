"""Connections and write transactions.

Every write opens with BEGIN IMMEDIATE: a deferred transaction that reads then writes fails at
once with SQLITE_BUSY when another process writes, and busy_timeout cannot save it (NOTES.md).
Durability choice: WAL with synchronous=NORMAL. It survives any application crash or SIGKILL;
on power loss the last few commits may be lost. See README, Operations.
"""
from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import quote

from core.errors import OrderqError

BUSY_TIMEOUT_MS = 5000
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
# WAL pages between automatic checkpoints (SQLite's default is 1,000 = 4 MB). A claim rewrites
# the same hot pages (queue index, event log tail), and a checkpoint copies each page once however
# often it was rewritten, so checkpointing every 16 MB copies far fewer pages per write.
WAL_AUTOCHECKPOINT = 4000
# Taking the write lock. SQLite's busy handler sleeps 1, 2, 5, 10, 15 … ms between tries, and
# waiters that started together retry together, so in a burst the last of 16 waits 18–55 ms for
# a lock held ~0.15 ms at a time. So: one try, one jittered 0.5–4 ms sleep, one more try (this
# spreads a burst out, and shifts each waiter's handler schedule by its own offset), then SQLite's
# handler, whose long sleeps leave the two cores to the lock holder under sustained load (more
# quick retries cost tight-loop throughput; see bench/bench_claim.py).
POLL_TRIES = 1
POLL_SLEEP_S = (0.0005, 0.004)


#: the tail of a store refusal whose transaction rolled back; cli.main keeps it only when it is true
NOTHING_WRITTEN = "nothing was written"
_committed = 0  # write transactions that changed something, committed by this process


class StoreError(OrderqError):
    """The database itself refused: busy beyond its timeout, disk full, not a database.

    `reason` is the cause alone ("the disk is full"), without what it means for the data, so a
    command that commits in steps can say how far it got instead (`stopped_after`)."""

    code = "store"

    def __init__(self, message: str, *, reason: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason or message


def committed_writes() -> int:
    """Write transactions that changed something, committed by this process so far: a command that
    fails after one of them must not say "nothing was written" (cli.main)."""
    return _committed


@contextmanager
def uncounted() -> Iterator[None]:
    """Commits inside are not the command's writes, and do not count in `committed_writes`: `orderq copy`
    migrates its private temp file, which is deleted if the copy fails, so "nothing was written" stays true."""
    global _committed
    before = _committed
    try:
        yield
    finally:
        _committed = before


def commit(conn: sqlite3.Connection, changes_at_begin: int) -> None:
    """COMMIT, counted in `committed_writes` when the transaction changed a row since `changes_at_begin`
    (the connection's total_changes when it began)."""
    conn.execute("COMMIT")
    count_commit(conn.total_changes != changes_at_begin)


def count_commit(changed: bool) -> None:
    """Count a committed write transaction in `committed_writes` when it `changed` a row (either backend)."""
    global _committed
    if changed:
        _committed += 1


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """One long-lived connection per process; reopening per event would churn the -wal file."""
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{quote(str(Path(path)))}?mode=ro", uri=True, isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(
                str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: could not switch to WAL (got {mode}); is it on a network filesystem?")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        if not readonly:
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        return conn
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: {e}") from None


def reason(e: BaseException) -> str:
    """The cause of a store failure in words a user can act on, without what it means for the data."""
    if isinstance(e, StoreError):
        return e.reason
    text = str(e)
    if "locked" in text or "busy" in text:
        return "the database stayed busy for more than 5 s"
    if "database or disk is full" in text:
        return "the disk is full"
    if "malformed" in text or "not a database" in text:
        return f"the database file is damaged ({text}); run `orderq check`"
    if "disk" in text or "full" in text or "I/O" in text:
        return f"disk error: {text}"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only here"
    return f"database error: {text}"


def translate(e: sqlite3.Error) -> StoreError:
    """Words a user can act on, in place of a driver exception; its transaction rolled back."""
    why = reason(e)
    tail = f"{NOTHING_WRITTEN}, try again" if why.startswith("the database stayed busy") else NOTHING_WRITTEN
    return StoreError(f"{why}; {tail}", reason=why)


def stopped_after(why: str, done: str, resume: str) -> StoreError:
    """A command that commits in steps failed (`why`) after some of them: say how far it got and how to go on."""
    return StoreError(f"{why} after {done} were committed; {resume}", reason=why)


class WriterSlot:
    """The write lock's queue inside one process: threads that write to one database through
    connections of their own take turns here, first come first served, before BEGIN IMMEDIATE.

    WHY: SQLite's busy handler cannot queue. A thread that finds the lock taken sleeps 1, 2, 5, 10,
    15, 20 … ms and tries again, so the lock stands idle after each COMMIT until some sleeper wakes,
    and a thread that lost a few times sleeps 20 ms and more per try while newcomers win: the tail
    of an HTTP server's latency (bench/bench_api.py). Here the thread that releases hands the slot
    straight to the next waiter. Other processes still meet at SQLite's lock, as before.

    A thread that holds the slot passes through (a second connection of the same thread is not made
    to wait for itself); a waiter gives up after `timeout_s`, as BEGIN IMMEDIATE would."""

    def __init__(self, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.timeout_s = timeout_s
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._waiters: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self) -> bool:
        """True once this thread holds the slot; False if it already did (so it must not release)."""
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                return False
            if self._owner is None:
                self._owner = me
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append((me, turn))
        if turn.acquire(timeout=self.timeout_s):
            return True
        with self._guard:
            try:
                self._waiters.remove((me, turn))
            except ValueError:  # handed over just as the wait ran out: it is ours
                turn.acquire()
                return True
        raise translate(sqlite3.OperationalError("database is locked"))

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._owner, turn = self._waiters.popleft()
                turn.release()
            else:
                self._owner = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the slot across several write transactions of this thread (one command in steps), so
        it queues once, not once per transaction."""
        queued = self.acquire()
        try:
            yield
        finally:
            if queued:
                self.release()


def write_tx(conn: sqlite3.Connection, slot: WriterSlot | None = None) -> AbstractContextManager[sqlite3.Connection]:
    """A write transaction on either backend; any exception rolls back, so a refused command writes
    nothing. A PostgreSQL connection (db.pg.connection) brings its own (its writers queue at the
    server's advisory lock, so `slot` is for SQLite's busy handler only).
    `slot`: this process's queue for SQLite's write lock, taken before BEGIN and given back after the end."""
    if isinstance(conn, sqlite3.Connection):
        return _sqlite_write_tx(conn, slot)
    return conn.write_tx()  # type: ignore[attr-defined]


@contextmanager
def _sqlite_write_tx(conn: sqlite3.Connection, slot: WriterSlot | None = None) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT; any exception rolls back, so a refused command writes nothing."""
    queued = slot is not None and slot.acquire()
    try:
        try:
            _begin_immediate(conn)
        except sqlite3.Error as e:
            raise translate(e) from None
        changes = conn.total_changes
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            commit(conn, changes)
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate(e) from None
    finally:
        if queued:
            slot.release()  # type: ignore[union-attr]
        _wait_when_busy(conn)


def _wait_when_busy(conn: sqlite3.Connection) -> None:
    """Give the connection back SQLite's busy handler (BUSY_TIMEOUT_MS) once the write transaction
    has ended. Not sooner: setting it is a statement, and inside the transaction this process
    holds the write lock. Nothing in a WAL write transaction waits on the handler anyway: the
    transaction's snapshot and the write lock are already held, COMMIT appends to the WAL without
    waiting for readers, and the checkpoint after it is a passive one, which never waits."""
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE: up to POLL_TRIES jittered quick retries, then SQLite's own busy handler.
    Leaves busy_timeout at 0 when a quick try won; write_tx restores it when the transaction ends."""
    conn.execute("PRAGMA busy_timeout=0")
    for i in range(POLL_TRIES + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
        if i < POLL_TRIES:
            time.sleep(random.uniform(*POLL_SLEEP_S))
    _wait_when_busy(conn)
    conn.execute("BEGIN IMMEDIATE")


def read_tx(conn: sqlite3.Connection) -> AbstractContextManager[sqlite3.Connection]:
    """A short snapshot for multi-query reads, on either backend."""
    if isinstance(conn, sqlite3.Connection):
        return _sqlite_read_tx(conn)
    return conn.read_tx()  # type: ignore[attr-defined]


@contextmanager
def _sqlite_read_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short snapshot for multi-query reads; kept short so the WAL can be reset."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
