"""Connections and write transactions.

Every write opens with BEGIN IMMEDIATE: a deferred transaction that reads then writes fails at
once with SQLITE_BUSY when another process writes, and busy_timeout cannot save it (NOTES.md).
Durability choice: WAL with synchronous=NORMAL. It survives any application crash or SIGKILL;
on power loss the last few commits may be lost. See README, Operations.
"""
from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


class StoreError(OrderqError):
    """The database itself refused: busy beyond its timeout, disk full, not a database."""

    code = "store"


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """One long-lived connection per process; reopening per event would churn the -wal file."""
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None,
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


def translate(e: sqlite3.Error) -> StoreError:
    """Words a user can act on, in place of a driver exception."""
    text = str(e)
    if "locked" in text or "busy" in text:
        return StoreError("the database stayed busy for more than 5 s; nothing was written, try again")
    if "disk" in text or "full" in text or "I/O" in text:
        return StoreError(f"disk error: {text}; nothing was written")
    if "readonly" in text or "read-only" in text:
        return StoreError("the database is read-only here; nothing was written")
    return StoreError(f"database error: {text}; nothing was written")


@contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT; any exception rolls back, so a refused command writes nothing."""
    try:
        _begin_immediate(conn)
    except sqlite3.Error as e:
        raise translate(e) from None
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise translate(e) from None


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE: up to POLL_TRIES jittered quick retries, then SQLite's own busy handler."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        for i in range(POLL_TRIES + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
            if i < POLL_TRIES:
                time.sleep(random.uniform(*POLL_SLEEP_S))
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("BEGIN IMMEDIATE")


@contextmanager
def read_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short snapshot for multi-query reads; kept short so the WAL can be reset."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
