"""What a PostgreSQL connection does around transactions: the one NOTIFY, and coming back after
the server went away (a restart, a failover).

The connection adapter (db.pg.connection) calls `Link.before` for BEGIN, COMMIT and ROLLBACK and
for any statement on a connection that is gone, and `Link.failed` when the driver raised.

- NOTIFY: db.events tells the connection the newest event id it wrote (`events_written`); the
  COMMIT sends one `pg_notify` first, inside the transaction (`NotifyHint`).
- Reconnecting: a connection that died is replaced at the next unit of work: a BEGIN, or a
  statement outside any transaction (the change feed's reads, a session's heartbeat). Never in
  the middle of a transaction: the statements after a lost one are refused until the transaction
  ends (COMMIT fails, ROLLBACK is a no-op), so no half of a command ever runs on a new session. A
  BEGIN or a read outside a transaction that finds the connection dead is tried once more on a
  new one (nothing had run); a write outside a transaction is not (it may have committed).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

LOST = "the connection to PostgreSQL was lost"
#: the one channel every session LISTENs on (db.pg.feed)
CHANNEL = "orderq_events"


class NotifyHint:
    """The one NOTIFY of a write transaction: `note` remembers the newest event id written,
    `flush` sends it right before COMMIT (inside the transaction: delivered only if it commits),
    `drop` forgets it on ROLLBACK. Held by the connection adapter, one per connection."""

    __slots__ = ("newest",)

    def __init__(self) -> None:
        self.newest: int | None = None

    def note(self, last_id: int) -> None:
        if self.newest is None or last_id > self.newest:
            self.newest = last_id

    def flush(self, execute: Callable[[str, tuple], object]) -> None:
        if self.newest is not None:
            newest, self.newest = self.newest, None
            execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(newest)))

    def drop(self) -> None:
        self.newest = None


def tx_word(sql: str) -> str | None:
    """BEGIN, COMMIT or ROLLBACK when `sql` starts or ends a transaction (not ROLLBACK TO a savepoint).
    Cheap for every other statement: it runs before each one."""
    head = sql[:10].lstrip()[:5].upper()
    if head == "BEGIN":
        return "BEGIN"
    if head in ("COMMI", "ROLLB", "END"):
        whole = sql.strip().upper().rstrip(";")
        if whole in ("COMMIT", "END"):
            return "COMMIT"
        if whole == "ROLLBACK":
            return "ROLLBACK"
    return None


def retry_safe(sql: str, word: str | None) -> bool:
    """May this statement, outside a transaction, run again on a new connection after the old one
    died under it? A BEGIN or a plain SELECT: nothing it did can have been committed."""
    return word == "BEGIN" or sql.lstrip()[:6].upper() == "SELECT"


class Skipped:
    """What a skipped ROLLBACK returns in place of a cursor (its connection is gone)."""

    rowcount = 0
    lastrowid = None
    description = None

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list:
        return []

    def __iter__(self):  # noqa: ANN204
        return iter(())


SKIPPED = Skipped()


class Link:
    """Per connection: is an explicit transaction open, did the connection die inside it, and the
    transaction's pending NOTIFY."""

    __slots__ = ("in_tx", "lost_in_tx", "hint", "reconnects")

    def __init__(self) -> None:
        self.in_tx = False
        self.lost_in_tx = False
        self.hint = NotifyHint()
        self.reconnects = 0

    def before(self, raw: psycopg.Connection, word: str | None, run: Callable[[str, tuple], object],
               reconnect: Callable[[], None]) -> bool:
        """Before a statement (`word`: its tx_word). False: skip it (a ROLLBACK of a transaction
        the dead connection took with it). Raises when the statement belongs to a lost transaction."""
        gone = raw.closed or raw.broken
        if word == "BEGIN":
            self.hint.drop()
            self.lost_in_tx = False
            if gone:
                reconnect()
            self.in_tx = True
            return True
        if word == "ROLLBACK":
            self.hint.drop()
            self.in_tx = self.lost_in_tx = False
            return not gone
        if word == "COMMIT":
            self.in_tx = False
            if gone or self.lost_in_tx:
                self.hint.drop()
                self.lost_in_tx = False
                raise sqlite3.OperationalError(f"{LOST}; the transaction was rolled back")
            self.hint.flush(run)
            return True
        if self.lost_in_tx or (gone and self.in_tx):
            self.lost_in_tx = True
            raise sqlite3.OperationalError(f"{LOST}; the transaction was rolled back")
        if gone:
            reconnect()
        return True

    def forget(self) -> None:
        """The transaction ended without a ROLLBACK sent (its connection died with it): the next
        statement starts afresh, on a new session, instead of being refused as part of the lost one."""
        self.hint.drop()
        self.in_tx = self.lost_in_tx = False

    def lost(self, raw: psycopg.Connection) -> bool:
        """Has the connection died (so whatever transaction it had is gone)?"""
        return raw.closed or raw.broken

    def failed(self, raw: psycopg.Connection) -> bool:
        """The driver raised: True if the connection died (so an open transaction is lost)."""
        if not (raw.closed or raw.broken):
            return False
        if self.in_tx:
            self.lost_in_tx = True
            self.in_tx = False
        return True
