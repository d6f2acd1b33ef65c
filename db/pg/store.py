"""Opening a PostgreSQL database by URL, for db.store.Store.open and `orderq check`.

Each refusal is one line naming the URL without its password, and writes nothing: an unreachable
server, a refused password, a database that does not exist or is not initialised (`orderq init`),
another application's database."""
from __future__ import annotations

from db.connection import StoreError
from db.pg.connection import PgConnection, connect, redact
from db.pg.schema import ID_TABLES, MIGRATIONS_TABLE, applied, is_initialised, migrate


def _tables(conn: PgConnection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def open_connection(url: str, *, create: bool) -> PgConnection:
    """A connection to an initialised orderq database; `create` also lays down or migrates the schema
    (orderq init), refusing, untouched, a database that holds another application's tables."""
    conn = connect(url, id_tables=ID_TABLES)
    try:
        if create:
            tables = _tables(conn)
            if tables and MIGRATIONS_TABLE not in tables:
                shown = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
                raise StoreError(f"{redact(url)} is another application's database (tables {shown}); "
                                 "it was left untouched")
            if not is_initialised(conn):  # else nothing to do: and the app's role may not CREATE (db/pg/roles.py)
                migrate(conn)
        elif not is_initialised(conn):
            why = "needs `orderq init` to migrate it" if applied(conn) else "is not initialised; run `orderq init`"
            raise StoreError(f"{redact(url)} {why}; nothing was written")
    except BaseException:
        conn.close()
        raise
    return conn


def open_readonly(url: str) -> PgConnection:
    """A read-only session (default_transaction_read_only) to an initialised orderq database, for `check`."""
    conn = connect(url, id_tables=ID_TABLES, readonly=True)
    try:
        if not is_initialised(conn):
            raise StoreError(f"{redact(url)} is not initialised, or needs `orderq init` to migrate it; "
                             "it was left untouched")
    except BaseException:
        conn.close()
        raise
    return conn
