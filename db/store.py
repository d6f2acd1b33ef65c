"""The store: one long-lived connection, the rules and the clock, shared by every service."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from core.rules import Rules
from db.config import load_rules
from db.connection import StoreError, connect, read_tx, write_tx
from db.migrations import is_initialised, migrate

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def default_db_path() -> str:
    return os.environ.get("ORDERQ_DB") or "orderq.db"


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path, rules: Rules, clock: Clock = system_clock) -> None:
        self.conn = conn
        self.path = path
        self.rules = rules
        self.clock = clock

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        rules: Rules | None = None,
        clock: Clock = system_clock,
        create: bool = False,
    ) -> "Store":
        """Open an initialised database; `create` also creates or migrates it (orderq init)."""
        p = Path(path)
        if not create and not p.exists():
            raise StoreError(f"no database at {p}; run `orderq init` (or `orderq demo`) first")
        conn = connect(p)
        if create:
            migrate(conn)
        elif not is_initialised(conn):
            conn.close()
            raise StoreError(f"{p} is not an orderq database, or needs `orderq init` to migrate it")
        return cls(conn, p, rules or load_rules(), clock)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with write_tx(self.conn) as c:
            yield c

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with read_tx(self.conn) as c:
            yield c

    def data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
