"""PostgreSQL's side of `orderq copy` (db/copy.py): a snapshot to read, and an empty database to fill.

Reading: one REPEATABLE READ READ ONLY transaction, so every table is read as of one moment while
sessions go on committing; rows stream through a server-side cursor in primary-key order. The copy's
session lifts the app sessions' statement and idle-in-transaction timeouts (db/pg/connection.py): a
big copy is one long transaction by design. (While it runs it holds the xmin horizon, so vacuum of
the source's hot tables waits for it: copy at a quiet hour.)

Writing: schema and rows in ONE transaction, so a failed or killed copy leaves the database as empty
as it was: the normal migrations (`orderq init`'s, inside the copy's transaction), the rows by COPY
FROM STDIN, then each identity sequence moved past its table's largest id (`bump_sequences`). The
audit log's append-only triggers refuse UPDATE, DELETE and TRUNCATE only, so they stay on and fire
as they always do: the copy only inserts. It runs as the role in DEST's URL, which becomes the owner
of what it creates (as with `orderq init`), so it needs no grant of its own.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from db.connection import StoreError
from db.copy import RowSource, quote, tables_of
from db.pg.connection import PgConnection, connect, redact
from db.pg.schema import ID_TABLES, apply_pending, bump_sequences
from db.pg.store import open_readonly

#: the copy is one long transaction on each side, by design: no statement or idle limit for its sessions
_UNLIMITED = ("SET statement_timeout = 0", "SET idle_in_transaction_session_timeout = 0")
_CURSOR = "orderq_copy"


def _identity(conn: PgConnection) -> tuple[str, str]:
    """(cluster, database): what tells two URLs of one database apart from two databases."""
    row = conn.execute("SELECT (SELECT system_identifier FROM pg_control_system())::text, current_database()").fetchone()
    return str(row[0]), str(row[1])


def _primary_key(conn: PgConnection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = to_regclass(?) AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,))]


def foreign_key_parents(conn: PgConnection) -> dict[str, set[str]]:
    """table -> the tables its foreign keys point to, in the current schema."""
    out: dict[str, set[str]] = {}
    for child, parent in conn.execute(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"):
        out.setdefault(child.strip('"'), set()).add(parent.strip('"'))
    return out


class PgSource(RowSource):
    """The source database read in one REPEATABLE READ READ ONLY transaction."""

    def __init__(self, url: str) -> None:
        self.label = redact(url)
        self.conn = open_readonly(url)  # refuses, untouched, a database that is not initialised
        for s in _UNLIMITED:
            self.conn.execute(s)
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self.conn.execute("SELECT 1")  # the snapshot is taken by the first statement: now, before anything is counted
        self.identity = _identity(self.conn)

    def _batches(self, table: str, columns: Sequence[str], size: int) -> Iterator[list[tuple[Any, ...]]]:
        order = ", ".join(map(quote, _primary_key(self.conn, table) or columns))
        self.conn.execute(f"DECLARE {_CURSOR} NO SCROLL CURSOR FOR SELECT {', '.join(map(quote, columns))} "
                          f"FROM {quote(table)} ORDER BY {order}")
        try:
            while rows := self.conn.execute(f"FETCH {int(size)} FROM {_CURSOR}").fetchall():
                yield [tuple(r) for r in rows]
        finally:
            self.conn.execute(f"CLOSE {_CURSOR}")

    def high_water(self) -> dict[str, int]:
        """Nothing beyond each table's largest id: the event log's ids are the writer's (head + 1), and an
        identity sequence's value is outside the snapshot (it moves on with the sessions still writing)."""
        return {}

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        finally:
            self.conn.close()


class PgTarget:
    """An empty database filled in one transaction, schema included; nothing is visible before `commit`."""

    def __init__(self, url: str, *, source: Any = None) -> None:
        self.label = redact(url)
        self.conn = connect(url, id_tables=ID_TABLES)
        try:
            for s in _UNLIMITED:
                self.conn.execute(s)
            if isinstance(source, PgSource) and source.identity == _identity(self.conn):
                raise StoreError(f"copy: {self.label} is the source database itself; choose an empty database; "
                                 "nothing was written")
            self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            found = sorted(self._all_tables())  # orderq's, its migrations record, or anyone else's
            if found:
                shown = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
                raise StoreError(f"copy: {self.label} is not empty (tables {shown}); copy writes only into a new or "
                                 "empty file or an empty PostgreSQL database; nothing was written")
            apply_pending(self.conn)  # `orderq init`'s migrations, in this transaction
        except BaseException:
            self.abort()
            raise

    def _all_tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    def tables(self) -> dict[str, list[str]]:
        return tables_of(self.conn)

    def parents(self) -> dict[str, set[str]]:
        return foreign_key_parents(self.conn)

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        try:
            with self.conn.raw.cursor().copy(
                    f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
        except Exception as e:  # a driver error: one line, the transaction rolls back (run_copy aborts)
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoreError(f"copy: writing {table} into {self.label} failed ({first}); nothing was written") from None

    def set_high_water(self, marks: dict[str, int]) -> None:
        bump_sequences(self.conn)  # the event log's next id is its head's + 1 (db/pg/dialect.py): nothing to move

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()

    def abort(self) -> None:
        try:
            if not self.conn.raw.closed and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self.conn.close()
