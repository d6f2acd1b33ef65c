"""The store: one long-lived connection, the rules and the clock, shared by every service."""
from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from db.connection import StoreError, connect, read_tx, write_tx
from db.migrations import is_initialised, migrate

if TYPE_CHECKING:
    from core.calendar import Calendar
    from core.rules import Rules

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def default_db_path() -> str:
    return os.environ.get("ORDERQ_DB") or "orderq.db"


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(target: str | Path) -> bool:
    """Does `target` (--db, $ORDERQ_DB) name a database server rather than a SQLite file?
    A URL of a scheme orderq does not know is refused here, one line, before anything is opened."""
    if not isinstance(target, str):
        return False
    m = _SCHEME.match(target)
    if not m:
        return False
    if m.group(1).lower() not in ("postgresql", "postgres"):
        raise StoreError(f"unknown database URL scheme {m.group(1)}://; use a SQLite file path or a "
                         "postgresql:// URL; nothing was written")
    return True


def shown(target: str | Path) -> str:
    """How a database is named in messages and output: a path, or a URL without its password."""
    if is_url(target):
        from db.pg.connection import redact

        return redact(str(target))
    return str(target)


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an orderq database, for `orderq check`.

    Opening read-write would write a header into an empty file and switch another app's database to
    WAL for good; so the file is opened read-only and refused, untouched, unless it holds orderq's tables.
    A damaged orderq file is let through: the checks report the damage (db.check).
    A PostgreSQL URL opens a read-only session (db.pg.store)."""
    if is_url(path):
        from db.pg.store import open_readonly as open_pg

        return open_pg(str(path))  # type: ignore[return-value]
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"no database at {p}; run `orderq init` (or `orderq demo`) first")
    conn = connect(p, readonly=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"_sqlite_migrations", "orders", "events"} <= tables:
            raise StoreError(f"{p} is not an orderq database (it has no orderq tables); it was left untouched")
        try:
            current = is_initialised(conn)
        except sqlite3.DatabaseError:
            current = True  # its migrations table is damaged: the checks say so
        if not current:
            raise StoreError(f"{p} needs `orderq init` to migrate it; it was left untouched")
    except sqlite3.DatabaseError as e:
        conn.close()
        raise StoreError(f"{p} is not an orderq database ({e}); it was left untouched") from None
    except StoreError:
        conn.close()
        raise
    return conn


def refuse_foreign(path: Path) -> None:
    """Before `init` or `demo` creates or migrates `path`: refuse, untouched, a file that holds another
    application's SQLite tables and none of orderq's. WHY: migrating it switched that database to WAL
    for good and added orderq's tables beside its own (`orderq --db their.sqlite init`)."""
    if not path.is_file() or path.stat().st_size == 0:
        return  # a new database
    conn = connect(path, readonly=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path} is not an orderq database ({e}); it was left untouched") from None
    finally:
        conn.close()
    if tables and "_sqlite_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
        raise StoreError(f"{path} is another application's database (tables {shown}); it was left untouched")


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path, rules: Rules | None, clock: Clock = system_clock) -> None:
        self.conn = conn
        self.path = path
        self._rules = rules
        self._early_calendar: Calendar | None = None
        self.clock = clock

    @property
    def rules(self) -> Rules:
        """The rules in force, validated (with pydantic) the first time anything asks.

        Store.open validates them at once unless told `defer_rules`: the TUI paints its first
        screen, then validates them before it handles a key (tui.app, "start-up"), so a session
        appears without waiting for pydantic to load.
        """
        if self._rules is None:
            from db.config import load_rules

            self._rules = load_rules()
        return self._rules

    @property
    def calendar(self) -> Calendar:
        """The desk hours of the SLA clock. Before the rules are validated (the TUI's first paint)
        they come from db.config.load_calendar, which needs no pydantic; a calendar it cannot read
        shows round-the-clock countdowns until the rules' validation stops the app."""
        if self._rules is not None:
            return self._rules.calendar
        if self._early_calendar is None:
            from core.calendar import ALWAYS_OPEN
            from db.config import load_calendar

            self._early_calendar = load_calendar() or ALWAYS_OPEN
        return self._early_calendar

    @property
    def rules_loaded(self) -> bool:
        return self._rules is not None

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        rules: Rules | None = None,
        clock: Clock = system_clock,
        create: bool = False,
        defer_rules: bool = False,
    ) -> "Store":
        """Open an initialised database; `create` also creates or migrates it (orderq init).
        A bad rules file stops the command here, unless `defer_rules` (see `rules`).
        A postgresql:// URL opens the PostgreSQL backend (db.pg); the store's `path` is then the URL
        without its password."""
        if is_url(path):
            from db.pg.store import open_connection

            conn = open_connection(str(path), create=create)
            return cls._ready(cls(conn, shown(path), rules, clock), defer_rules)  # type: ignore[arg-type]
        p = Path(path)
        if not create and not p.exists():
            raise StoreError(f"no database at {p}; run `orderq init` (or `orderq demo`) first")
        if create:
            refuse_foreign(p)
        conn = connect(p)
        if create:
            migrate(conn)
        elif not is_initialised(conn):
            conn.close()
            raise StoreError(f"{p} is not an orderq database, or needs `orderq init` to migrate it")
        return cls._ready(cls(conn, p, rules, clock), defer_rules)

    @staticmethod
    def _ready(store: "Store", defer_rules: bool) -> "Store":
        if not defer_rules:
            try:
                store.rules  # noqa: B018 - validate now: a bad rules file stops the command
            except Exception:
                store.conn.close()
                raise
        return store

    def now(self) -> datetime:
        return self.clock()

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_tx(self.conn)  # not wrapped in a generator of its own: one layer less per command

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with read_tx(self.conn) as c:
            yield c

    def close(self) -> None:
        self.conn.close()
