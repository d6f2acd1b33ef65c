"""The event log's action index leaves claims out (m910), and a desk upgraded to it reads the same.

A claim is the event written under the most contention, inside SQLite's one write lock; out of
ix_events_action_at it enters one b-tree fewer (bench/bench_claim.py). What a user would notice if
this went wrong: an upgraded desk's KPIs or `orderq check` changing, or a KPI read walking the
whole log (tests/kpi/test_kpi_reads_use_indexes), so those are what is tested.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.sqlite_only("about SQLite's partial index and an upgrade of a SQLite file")
NOW = ("--now", "2026-11-26T15:00:00Z")


def _full_action_index(path: Path) -> None:
    """The action index as it was before m910, holding every event."""
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("DROP INDEX ix_events_action_at")
    c.execute("CREATE INDEX ix_events_action_at ON events(action, at)")
    c.close()


def _forget_m910(path: Path) -> None:
    """The desk as it was before m910 (with `_full_action_index`): the migration not recorded."""
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("DELETE FROM _sqlite_migrations WHERE name = 'm910_events_action_index_without_claims'")
    c.close()


def _index_sql(path: Path) -> str:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_events_action_at'").fetchone()[0]
    finally:
        c.close()


def test_an_upgraded_desk_keeps_its_kpis_its_check_and_its_chain(demo_db: Path) -> None:
    for user in ("alice", "bob"):
        run_cli("--db", str(demo_db), *NOW, "claim", "--user", user, "--count", "3", check=True)
    _full_action_index(demo_db)
    kpi_before = run_cli("--db", str(demo_db), *NOW, "kpi", "--json", check=True).stdout  # read off the old index
    _forget_m910(demo_db)
    run_cli("--db", str(demo_db), "init", check=True)
    assert _index_sql(demo_db).endswith("WHERE action <> 'claim'")
    assert run_cli("--db", str(demo_db), *NOW, "kpi", "--json", check=True).stdout == kpi_before
    proc = run_cli("--db", str(demo_db), "check")
    assert proc.returncode == 0, proc.stdout
    # the claims after the upgrade still chain, and still count where the KPIs count them
    run_cli("--db", str(demo_db), *NOW, "claim", "--user", "alice", "--count", "2", check=True)
    assert run_cli("--db", str(demo_db), "check").returncode == 0


def test_a_new_desk_has_the_action_index_without_claims(db_path: Path) -> None:
    run_cli("--db", str(db_path), "init", check=True)
    assert _index_sql(db_path).endswith("WHERE action <> 'claim'")


def _plans(conn: sqlite3.Connection, statements: set[str]) -> list[tuple[str, str]]:
    return [(sql, " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql.replace("?", "0"))))
            for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def test_reads_by_action_use_the_action_index(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """The KPIs and `check` read events by action off ix_events_action_at, not off the entity index by
    entity alone (every order's events: most of the log, 100k+ on the online-retail year)."""
    from datetime import timedelta

    from core.kpi import Window
    from db.check import run_checks

    sam = desk_for(demo_db, "sam")
    conn = sam.store.conn
    seen: set[str] = set()
    conn.set_trace_callback(seen.add)
    sam.kpi.wallboard()
    now = sam.ctx.now()
    sam.kpi.report(Window(now - timedelta(days=30), now))
    run_checks(conn)
    conn.set_trace_callback(None)
    by_action = [(sql, plan) for sql, plan in _plans(conn, seen) if "action IN" in sql or "action = '" in sql]
    assert by_action
    for sql, plan in by_action:
        assert "ix_events_entity (entity=?)" not in plan, (sql, plan)
        assert "ix_events_action_at" in plan, (sql, plan)
