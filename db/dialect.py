"""The SQL fragments that differ between backends, chosen by the connection (`of`).

This module holds SQLite's; db/pg/dialect.py holds PostgreSQL's, as a subclass, and a PostgreSQL
connection carries it (`conn.dialect`). The service layer asks for a fragment here instead of
testing which backend it runs on.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Dialect:
    """SQLite's fragments."""

    name = "sqlite"
    #: appended to the claim statement's subquery: nothing on SQLite (BEGIN IMMEDIATE holds the write lock)
    claim_lock = ""
    #: AUTOINCREMENT's high-water mark of the event log, as an SQL scalar (an id is never reused)
    event_seq = "(SELECT seq FROM sqlite_sequence WHERE name = 'events')"

    #: an inner join whose left side drives the loop: SQLite's planner keeps CROSS JOIN's table order
    ordered_join = "CROSS JOIN"

    def columns(self, conn: Any, table: str) -> set[str]:
        """The column names of `table` (empty if there is no such table)."""
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}

    def tables(self, conn: Any) -> set[str]:
        """The tables of the database, the backend's own bookkeeping left out."""
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not r[0].startswith("sqlite_") and r[0] != "_sqlite_migrations"}

    def checks(self, checks: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """`orderq check`'s checks on this backend: SQLite's are the ones db.check lists."""
        return checks

    def claim_with_event(self, claim_sql: str) -> str | None:
        """The claim statement `claim_sql` (db.claims) made to append its own event, server-side, or
        None when the event is appended from Python after it (SQLite: BEGIN IMMEDIATE holds the lock
        and a statement is a function call, not a round trip)."""
        return None

    def try_reaper_lock(self, conn: Any) -> bool:
        """May this write transaction return lapsed leases in bulk (db.claims.reap_all, and the
        reap before each claim), or is another session doing it right now (then skip: that one
        returns them)? On SQLite, yes: BEGIN IMMEDIATE already makes this the only writer."""
        return True

    #: a case-insensitive LIKE (SQLite's LIKE is, for ASCII)
    like = "LIKE"

    def group_concat_distinct(self, expr: str) -> str:
        """The distinct values of `expr`, comma-separated, as one text."""
        return f"group_concat(DISTINCT {expr})"

    def json_text(self, expr: str, key: str) -> str:
        """The text (or number) at `key` of the JSON object in column `expr`, or NULL."""
        return f"json_extract({expr}, '$.{key}')"

    def json_each(self, expr: str, key: str) -> str:
        """A FROM item with `key` and `value` columns: the members of the object at `key` of `expr`."""
        return f"json_each({expr}, '$.{key}')"

    def grant_app_role(self, conn: Any, name: str) -> bool:
        """`orderq init --app-role`: a SQLite file has no roles (its file permissions are its access control)."""
        from core.errors import ValidationError

        raise ValidationError("--app-role is for a PostgreSQL database (a postgresql:// URL); a SQLite file's "
                              "access is its file permissions; nothing was written", field="app_role")

    # ---- bulk writes (db.importer) --------------------------------------------------------------
    #: the schema prefix of a connection's private tables
    temp = "temp."
    #: a table stored in its primary key's order (SQLite's rowid table would need a second index)
    clustered = " WITHOUT ROWID"
    #: a float column holding epoch seconds (SQLite's REAL is 8 bytes; PostgreSQL's would be 4)
    double = "REAL"

    def temp_index(self, name: str, table: str, columns: str) -> str:
        """CREATE INDEX on a private table: SQLite names the schema on the index, not on the table."""
        return f"CREATE INDEX temp.{name} ON {table}({columns})"

    def invoice_seq(self, conn: Any, expr: str) -> str:
        """An SQL expression for core.intake.invoice_seq of `expr` (the digits of an invoice ref, as a
        number): SQLite calls the Python function itself, registered on `conn` here."""
        from core.intake import invoice_seq

        conn.create_function("intake_invoice_seq", 1, invoice_seq, deterministic=True)
        return f"intake_invoice_seq({expr})"

    def begin_bulk(self, conn: Any) -> None:
        """Open one chunk's write transaction, holding the writers' lock as every command's does."""
        conn.execute("BEGIN IMMEDIATE")

    def data_version(self, conn: Any) -> object:
        """A token that differs once another connection has committed: read it after this connection's
        own commit, compare it at the next transaction (db.importer keeps customers and products in
        memory across chunks while nobody else wrote). SQLite's data_version ignores own commits."""
        return conn.execute("PRAGMA data_version").fetchone()[0]

    def ids_assigned(self, conn: Any, tables: tuple[str, ...]) -> None:
        """Rows were inserted into `tables` with ids chosen by the writer (MAX(id) + 1): nothing to do
        on SQLite, whose next automatic id is always past the largest."""

    @contextmanager
    def bulk_cache(self, conn: Any) -> Iterator[None]:
        """A larger page cache for an import's duration (its line indexes are updated at random keys,
        which thrash SQLite's default 2 MB cache); the connection's own setting comes back after."""
        old = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size={old}")


    def small_cache(self, conn: Any, kib: int) -> None:
        """Keep this connection's page cache to `kib` (SQLite's default is 2 MB, and a long-lived
        connection that once scanned a day's orders keeps it full for the rest of its life: issue 14,
        RSS per session). Pages come back from the OS's file cache when read again."""
        conn.execute(f"PRAGMA cache_size=-{int(kib)}")


#: SQLite's page cache while importing (KiB)
BULK_CACHE_KIB = 16384

SQLITE = Dialect()


def of(conn: Any) -> Dialect:
    """The dialect of a connection: a PostgreSQL connection says; anything else is SQLite."""
    return getattr(conn, "dialect", SQLITE)
