"""The PostgreSQL schema is SQLite's: a SQLite migration without its PostgreSQL twin fails here.
And the audit log is append-only on PostgreSQL too, whatever the session's replication role."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from db import dialect
from db.pg.schema import missing_twins
from db.store import Store
from tests.conftest import run_cli
from tests.pg_server import PgServer


def _shape(conn) -> dict[str, set[str]]:  # noqa: ANN001
    d = dialect.of(conn)
    return {t: d.columns(conn, t) for t in d.tables(conn)}


def _indexes_sqlite(path: Path) -> set[str]:
    c = sqlite3.connect(path)
    try:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                                        " AND name NOT LIKE 'idx__sqlite%'")}
    finally:
        c.close()


def test_every_table_and_column_of_sqlite_is_on_postgresql(db_path: Path, pg_url: str) -> None:
    lite, pg = Store.open(db_path), Store.open(pg_url)
    try:
        assert _shape(pg.conn) == _shape(lite.conn)
        pg_indexes = {r[0] for r in pg.conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'"
            " AND indexname NOT LIKE '%_key'")}
        assert _indexes_sqlite(db_path) <= pg_indexes
    finally:
        lite.close()
        pg.close()


def test_every_sqlite_migration_has_a_postgresql_twin() -> None:
    assert missing_twins() == []


def test_the_claimable_index_is_partial_as_on_sqlite(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        (ddl,) = store.conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_orders_claimable'").fetchone()
    finally:
        store.close()
    assert "WHERE (state = 'queued'::text)" in ddl


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events",
                                       "TRUNCATE events"])
@pytest.mark.parametrize("role", ["origin", "replica"])
def test_the_event_log_refuses_rewrites_even_as_a_replica(pg_server: PgServer, pg_demo_url: str, statement: str,
                                                          role: str) -> None:
    dbname = pg_demo_url.rsplit("/", 1)[1]
    with psycopg.connect(host=str(pg_server.root), port=pg_server.port, user="postgres", dbname=dbname,
                         autocommit=True) as c:
        c.execute(f"SET session_replication_role = {role}")  # replica skips ordinary triggers, not ALWAYS ones
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            c.execute(statement)
        assert c.execute("SELECT COUNT(*) FROM events WHERE actor = 'mallory'").fetchone()[0] == 0
    assert run_cli("check", env={"ORDERQ_DB": pg_demo_url}).returncode == 0


def test_check_fails_when_a_guard_trigger_is_disabled(pg_server: PgServer, pg_demo_url: str) -> None:
    dbname = pg_demo_url.rsplit("/", 1)[1]
    with psycopg.connect(host=str(pg_server.root), port=pg_server.port, user="postgres", dbname=dbname,
                         autocommit=True) as c:
        c.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    proc = run_cli("check", env={"ORDERQ_DB": pg_demo_url})
    assert proc.returncode == 1
    assert "FAIL audit log guard triggers present: trigger events_no_update is not ENABLE ALWAYS" in proc.stdout
