"""A PostgreSQL connection that the store and the service layer use as they use sqlite3's.

The adapter presents the small part of the sqlite3 connection API the service layer relies on:
`execute` / `executemany` returning a cursor (fetchone, fetchall, iteration, rowcount, lastrowid),
rows indexable by position and by column name (with `keys()`, like sqlite3.Row), `in_transaction`,
`total_changes`, `close`. So the service layer's SQL runs unchanged where it is portable; what is
not portable lives in db/pg/dialect.py.

Transactions: the connection is in autocommit mode and the store issues BEGIN … COMMIT itself, as
on SQLite. Write transactions run at READ COMMITTED (SKIP LOCKED and SERIALIZABLE don't mix);
the event log's writers are serialised by one advisory lock taken at BEGIN (`write_tx`); a claim
sends its whole transaction at once (`claim_at_once`, db/pg/claim.py).

Driver errors are raised as the sqlite3 exception classes the service layer and the faces already
catch (IntegrityError, OperationalError…), with a message in the same words where one is matched
on ("database is locked" for a lock or statement timeout), so a refusal is one line, never a
traceback. The URL is shown only without its password (`redact`).
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from db.pg.dialect import PG
from db.pg.link import SKIPPED, Link, retry_safe, tx_word
from db.pg.rows import Row, _BoolAsInt, _BoolParamAsInt, _NumericAsSqlite, _row_factory  # noqa: F401 - Row: named here too
from db.pg.sql import statement

# psycopg pins its own logger at WARNING when imported; let it follow the app's level instead
# ($ORDERQ_LOG_LEVEL, default ERROR): its warning "error ignored terminating Pipeline" comes while a
# lost connection's error is already on its way to the user as one line, and made it two
logging.getLogger("psycopg").setLevel(logging.NOTSET)

SCHEMES = ("postgresql", "postgres")
#: per app session (checked against the claim workload, issue 18 §3):
#: - statement_timeout 300 s: a runaway statement is cancelled. Generous on purpose: `check` and
#:   `kpi` over a year of orders are single statements of seconds; a claim takes well under 1 ms.
#: - idle_in_transaction_session_timeout 60 s: a session stuck inside a transaction (a crashed
#:   front end, a debugger) is ended, so it cannot hold the xmin horizon for long, and dead tuples
#:   in the hot queue tables (orders, returns) can be vacuumed again; no command of the app leaves a
#:   transaction idle while it waits for a person.
#: - lock_timeout 5 s: a lock wait (the writer lock of write_tx, a row lock) ends like SQLite's busy
#:   timeout, as "database is locked … try again". Under 16 claimers on 2 loaded cores the writer
#:   lock's wait reached p99 ~4.9 s (bench/bench_pg_claim.py), close to it, while claims held the lock
#:   across round trips; sent in one message (db/pg/claim.py), their p99 is ~0.1 s at load 20.
SESSION_SETTINGS = {
    "statement_timeout": "300s",
    "idle_in_transaction_session_timeout": "60s",
    "lock_timeout": "5s",
}
CONNECT_TIMEOUT_S = 5


def is_url(target: object) -> bool:
    """Does `target` (a --db value) name a PostgreSQL database rather than a SQLite file?"""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in SCHEMES and "://" in target


def redact(url: str) -> str:
    """The URL without its password (and without a `password=` query parameter), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://…"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _translate(e: psycopg.Error) -> sqlite3.Error:
    """The sqlite3 exception the callers already handle, for a driver error."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if isinstance(e, pg_errors.IntegrityError):
        return sqlite3.IntegrityError(text)
    if isinstance(e, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled, pg_errors.DeadlockDetected,
                      pg_errors.SerializationFailure)):
        return sqlite3.OperationalError(f"database is locked ({text})")
    if isinstance(e, pg_errors.DiskFull):
        return sqlite3.OperationalError("database or disk is full")
    if isinstance(e, pg_errors.RaiseException):  # the audit log's triggers
        return sqlite3.IntegrityError(text)
    if isinstance(e, psycopg.OperationalError):
        return sqlite3.OperationalError(f"the connection to PostgreSQL failed ({text})")
    return sqlite3.OperationalError(text)


class Cursor:
    """What sqlite3's cursor offers the service layer: fetchone, fetchall, iteration, rowcount,
    lastrowid (from `RETURNING id`, appended to a plain INSERT into a table with an id column)."""

    __slots__ = ("_cur", "lastrowid")

    def __init__(self, cur: psycopg.Cursor, lastrowid: int | None = None) -> None:
        self._cur = cur
        self.lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self) -> Any:
        d = self._cur.description
        return None if d is None else [(c.name, None, None, None, None, None, None) for c in d]

    def fetchone(self) -> Any:
        if self._cur.description is None:
            return None
        try:
            return self._cur.fetchone()
        except psycopg.Error as e:
            raise _translate(e) from None

    def fetchall(self) -> list[Any]:
        if self._cur.description is None:
            return []
        try:
            return self._cur.fetchall()
        except psycopg.Error as e:
            raise _translate(e) from None

    def fetchmany(self, size: int = 1) -> list[Any]:
        if self._cur.description is None:
            return []
        return self._cur.fetchmany(size)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._cur.close()


class _CursorOn:
    """What `conn.cursor()` gives: `execute` on the connection; `row_factory` is accepted and ignored
    (a Row is a tuple, so positional reads work as sqlite3's plain tuples do)."""

    row_factory: Any = None

    def __init__(self, conn: "PgConnection") -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = None) -> Cursor:
        return self._conn.execute(sql, params)


class PgConnection:
    """One PostgreSQL session, used like a sqlite3 connection (see the module docstring)."""

    backend = "postgresql"
    dialect = PG
    #: how sessions on this backend learn of other processes' commits (db.feed.open_feed)
    CHANGE_DETECTION = "db.pg.feed"

    def __init__(self, raw: psycopg.Connection, url: str, id_tables: frozenset[str], readonly: bool = False) -> None:
        self.raw = raw
        self.url = url  # as given; shown only through `redact`
        self.id_tables = id_tables
        self.readonly = readonly
        self.total_changes = 0
        self.link = Link()  # the transaction's NOTIFY; a new session after the server went away

    def events_written(self, last_id: int) -> None:
        """db.events wrote events up to `last_id` in this transaction: its COMMIT sends one NOTIFY."""
        self.link.hint.note(last_id)

    def claim_at_once(self, plan: Any, active_user: str | None) -> Any:
        """A claim as one round trip (db.claims.take_alone; db.pg.claim says why)."""
        from db.pg.claim import claim_at_once

        return claim_at_once(self, plan, active_user)

    def _reconnect(self) -> None:
        """A new session in place of one the server dropped (db.pg.link says when)."""
        fresh = connect(self.url, id_tables=self.id_tables, readonly=self.readonly)
        try:
            self.raw.close()
        except psycopg.Error:
            pass
        self.raw = fresh.raw
        self.link.reconnects += 1

    def _run(self, text: str, params: Any) -> None:
        self.raw.execute(text, params, prepare=False)

    @property
    def in_transaction(self) -> bool:
        """Inside BEGIN … COMMIT on a live session. A lost connection (a restart, a failover) is in
        none: there is nothing left to roll back, and trying would raise past the one-line refusal."""
        return self.raw.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR,
                                                    TransactionStatus.ACTIVE)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        word = tx_word(sql)
        if (word is not None or self.raw.closed) and not self.link.before(self.raw, word, self._run, self._reconnect):
            return SKIPPED  # type: ignore[return-value] - a ROLLBACK of what a lost connection took with it
        st = statement(sql, self.id_tables)
        text = st.sql + " RETURNING id" if st.insert_into else st.sql
        try:
            cur = self.raw.cursor()
            cur.execute(text, () if params is None else params, prepare=False)
        except psycopg.Error as e:
            in_tx = self.link.in_tx and word != "BEGIN"
            if not (self.link.failed(self.raw) and not in_tx and retry_safe(sql, word)):
                raise _translate(e) from None
            self._reconnect()  # the server went away before this statement: once more on a new session
            if word == "BEGIN":
                self.link.in_tx, self.link.lost_in_tx = True, False
            cur = self.raw.cursor()
            try:
                cur.execute(text, () if params is None else params, prepare=False)
            except psycopg.Error as e2:
                self.link.failed(self.raw)
                raise _translate(e2) from None
        lastrowid = None
        if st.insert_into:
            rows = cur.fetchall()
            lastrowid = int(rows[-1][0]) if rows else None
        if st.writes and cur.rowcount > 0:
            self.total_changes += cur.rowcount
        return Cursor(cur, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any] | dict[str, Any]]) -> Cursor:
        st = statement(sql, self.id_tables)
        rows = list(seq)
        try:
            cur = self.raw.cursor()
            if not rows:
                return Cursor(cur)
            cur.executemany(st.sql, rows)
        except psycopg.Error as e:
            self.link.failed(self.raw)
            raise _translate(e) from None
        if st.writes and cur.rowcount > 0:
            self.total_changes += cur.rowcount
        return Cursor(cur)

    def cursor(self) -> "_CursorOn":
        """sqlite3's `conn.cursor()`, for code that sets `row_factory` on it (rows here are tuples already)."""
        return _CursorOn(self)

    def executescript(self, script: str) -> None:
        try:
            self.raw.execute(script.encode())  # bytes: run as given, several statements, no parameters
        except psycopg.Error as e:
            raise _translate(e) from None

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def write_tx(self):  # noqa: ANN201 - a context manager, as db.connection.write_tx gives
        return write_tx(self)

    def read_tx(self):  # noqa: ANN201
        return read_tx(self)

    def __enter__(self) -> "PgConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str, *, id_tables: frozenset[str], readonly: bool = False) -> PgConnection:
    """One long-lived session per process. The password comes from PGPASSFILE / ~/.pgpass or
    PGPASSWORD (libpq reads them itself), or the URL; it never reaches a message."""
    from db.connection import StoreError

    options = " ".join(f"-c {k}={v}" for k, v in SESSION_SETTINGS.items())
    if readonly:
        options += " -c default_transaction_read_only=on"
    try:
        raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, connect_timeout=CONNECT_TIMEOUT_S,
                              options=options, application_name="orderq")
    except psycopg.Error as e:
        raise StoreError(f"cannot connect to {redact(url)}: {_connect_reason(e, url)}; nothing was written",
                         reason=f"cannot connect to {redact(url)}") from None
    raw.adapters.register_loader("numeric", _NumericAsSqlite)
    raw.adapters.register_loader("bool", _BoolAsInt)
    raw.adapters.register_dumper(bool, _BoolParamAsInt)
    return PgConnection(raw, url, id_tables, readonly)


def _connect_reason(e: psycopg.Error, url: str) -> str:
    """Why the connection failed, in words, never echoing the password libpq may quote back."""
    text = str(e)
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        return "the password was refused (set it in PGPASSFILE or PGPASSWORD)"
    if "does not exist" in low and "database" in low:
        return "that database does not exist (create it, then run `orderq init`)"
    if "role" in low and "does not exist" in low:
        return "that role does not exist"
    if "connection refused" in low or "could not connect" in low or "timeout" in low or "no such file" in low:
        return "the server is not reachable"
    if "invalid" in low or "missing" in low:
        return "the URL is not valid"
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    password = urlsplit(url).password if "://" in url else None
    return first.replace(password, "…") if password else first


#: the transaction-scoped advisory lock every write transaction takes first (see write_tx)
WRITE_LOCK = 0x6F72_6471_0002


@contextmanager
def write_tx(conn: PgConnection) -> Iterator[PgConnection]:
    """BEGIN … COMMIT at READ COMMITTED, writers serialised by one advisory lock taken first; any
    exception rolls back, so a refused command writes nothing. Counted in
    db.connection.committed_writes like SQLite's.

    WHY the lock: every command appends to the hash-chained event log, whose ids the writer assigns
    (head id + 1; the hash covers the id). Holding the lock from BEGIN to COMMIT means
    - two transactions never chain onto the same head;
    - ids are taken one transaction at a time, in commit order, so when a reader of
      `events --since CURSOR` (or the change feed) sees id N, every id below N is committed:
      "id > cursor" never skips an event (serialised id assignment, issue 18 §4);
    - the service layer keeps SQLite's BEGIN IMMEDIATE semantics (a command's reads and writes
      see no concurrent writer), so its read-then-write logic stays correct unchanged, and no
      two writers can deadlock on row locks taken in different orders.
    At READ COMMITTED each statement takes a fresh snapshot, so every statement after the lock sees
    the previous holder's commit. The claim keeps FOR NO KEY UPDATE SKIP LOCKED (db/claims.py), and
    takes this same lock, in the same order, but sends its whole transaction in one message
    (db.pg.claim), so its hold on the lock is server work only; statement by statement, each round
    trip inside the lock waited for a busy client to be scheduled (issue 18 §9: 0.11 × bare)."""
    from db.connection import count_commit, translate

    try:
        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
    except sqlite3.Error as e:
        raise translate(e) from None
    changes = conn.total_changes
    try:
        yield conn
    except BaseException as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        else:
            conn.link.forget()  # the connection died with the transaction: nothing to roll back
        if isinstance(e, sqlite3.Error) and conn.link.lost(conn.raw):
            raise translate(e) from None  # the server went away mid-command: a refusal, rolled back
        raise
    if conn.raw.info.transaction_status == TransactionStatus.INERROR:
        # a statement failed and its error was caught inside the transaction: PostgreSQL has aborted
        # it (SQLite would have gone on), so COMMIT would silently roll back; say so instead
        conn.execute("ROLLBACK")
        raise translate(sqlite3.OperationalError("a statement failed inside the transaction"))
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        else:
            conn.link.forget()
        raise translate(e) from None
    count_commit(conn.total_changes != changes)


@contextmanager
def read_tx(conn: PgConnection) -> Iterator[PgConnection]:
    """A snapshot for multi-query reads (REPEATABLE READ, read only): what SQLite's BEGIN gives."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
