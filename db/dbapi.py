"""Backend-neutral names for what the service layer and the faces hold: a connection, a row, and the
database errors they catch. Defined once here, so no module outside the SQLite backend names sqlite3
(tests/foundation/test_backend_boundary.py fails if one does).

WHY aliases of sqlite3's exception classes, not tuples with psycopg's: the PostgreSQL adapter raises
exactly these classes for every driver error (db/pg/connection.py `_translate`), with the same words
where callers match on them ("database is locked"). So one `except Error` catches both backends, works
as a type hint too, and the SQLite path never imports psycopg (start-up time).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

#: any database error, on either backend
Error = sqlite3.Error
#: the database refused the data: a constraint, or the audit log's append-only triggers
IntegrityError = sqlite3.IntegrityError
#: the database could not do it now: busy, a timeout, the disk, the connection
OperationalError = sqlite3.OperationalError
#: the database file or server answered with something that is not a database
DatabaseError = sqlite3.DatabaseError


class Row(Protocol):
    """A result row, by position or by column name: sqlite3.Row, or db.pg.connection.Row."""

    def __getitem__(self, key: int | str) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...


class Connection(Protocol):
    """The part of sqlite3's connection API the service layer uses; db.pg.connection.PgConnection has it too."""

    @property
    def in_transaction(self) -> bool: ...
    @property
    def total_changes(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, seq: Iterable[Sequence[Any] | dict[str, Any]], /) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
