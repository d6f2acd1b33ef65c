"""The SQL fragments that differ between backends, chosen by the connection (`of`).

This module holds SQLite's; db/pg/dialect.py holds PostgreSQL's, as a subclass, and a PostgreSQL
connection carries it (`conn.dialect`). The service layer asks for a fragment here instead of
testing which backend it runs on.
"""
from __future__ import annotations

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


SQLITE = Dialect()


def of(conn: Any) -> Dialect:
    """The dialect of a connection: a PostgreSQL connection says; anything else is SQLite."""
    return getattr(conn, "dialect", SQLITE)
