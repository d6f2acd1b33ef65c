"""`orderq copy` to and from a real PostgreSQL server: identical views, one snapshot while writers work,
one transaction on the destination, refusals, and a password that never shows."""
from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_cli
from tests.copy.compare import (EVENT_COLUMNS, assert_copy_is_one_moment, assert_same_views, check_ok, copy_cli,
                                copy_while_workers_commit, event_rows, popen_copy)
from tests.helpers import wait_for
from tests.pg_server import PASSWORD, PgServer


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]


@pytest.fixture(scope="module")
def demo3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("demo3000") / "desk.db"
    proc = run_cli("--db", str(p), "demo", "--orders", "3000", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return p


def test_a_3000_order_sqlite_desk_moves_into_an_empty_postgresql_database(demo3000: Path, pg_server: PgServer) -> None:
    """The issue's Done-when: identical orders, events and KPIs; a second copy into it is refused."""
    url = pg_server.url(pg_server.new_database(), password=PASSWORD)  # a password in the URL: never shown
    p = copy_cli(demo3000, url, "--json")
    assert p.returncode == 0, p.stderr
    assert PASSWORD not in p.stdout + p.stderr
    orders = sqlite3.connect(demo3000).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert json.loads(p.stdout)["tables"]["orders"] == orders >= 3000
    check_ok(url)  # hash chain, guard triggers, states, claims, stock and money on the destination
    assert_same_views(demo3000, url)
    before = event_rows(url)
    again = copy_cli(demo3000, url)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "is not empty" in again.stderr, again.stderr
    assert PASSWORD not in again.stderr
    assert event_rows(url) == before
    # the copy goes on where the source stopped: the next ids follow on in every table
    claimed = run_cli("--db", url, "claim", "--user", "alice", "--json")
    assert claimed.returncode == 0 and claimed.stdout, claimed.stderr
    made = run_cli("--db", url, "order", "new", "--customer", "C00003", "--line", "BEV-0001:1", "--user", "alice", "--json")
    assert made.returncode == 0, made.stderr
    assert event_rows(url)[-1][0] > before[-1][0]
    check_ok(url)


def test_an_initialised_but_empty_orderq_database_is_not_empty(demo_db: Path, pg_url: str) -> None:
    p = copy_cli(demo_db, pg_url)
    assert p.returncode == 2 and "is not empty" in p.stderr and p.stderr.count("\n") == 1


def test_a_postgresql_desk_moves_into_a_sqlite_file(pg_demo_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "desk.db"
    p = copy_cli(pg_demo_url, dest)
    assert p.returncode == 0, p.stderr
    check_ok(dest)
    assert_same_views(pg_demo_url, dest)


def test_postgresql_to_postgresql_and_the_source_under_another_url_is_refused(pg_demo_url: str, pg_server: PgServer,
                                                                             pg_empty_url: str) -> None:
    p = copy_cli(pg_demo_url, pg_empty_url)
    assert p.returncode == 0, p.stderr
    check_ok(pg_empty_url)
    assert_same_views(pg_demo_url, pg_empty_url)
    other_name = pg_demo_url.replace("127.0.0.1", "localhost").replace("postgres@", f"postgres:{PASSWORD}@")
    same = copy_cli(pg_demo_url, other_name)
    assert same.returncode == 2 and "is the source database itself" in same.stderr, same.stderr
    assert PASSWORD not in same.stderr


def test_a_failed_copy_leaves_the_postgresql_database_empty(demo_db: Path, pg_empty_url: str) -> None:
    """Schema and rows are one transaction: a row PostgreSQL cannot take (a NUL in a text, which SQLite holds)
    fails the copy after the schema and most rows were written, and none of it stays."""
    conn = sqlite3.connect(demo_db)
    conn.execute("UPDATE return_lines SET note = 'a' || char(0) || 'b' WHERE id = (SELECT MAX(id) FROM return_lines)")
    conn.commit()
    conn.close()
    p = copy_cli(demo_db, pg_empty_url)
    refusal = [line for line in p.stderr.splitlines() if not line.startswith("copy: ")]  # all but the progress
    assert p.returncode == 2 and len(refusal) == 1, p.stderr
    assert "return_lines" in refusal[0] and "nothing was written" in refusal[0] and "Traceback" not in p.stderr
    assert _tables(pg_empty_url) == []
    assert copy_cli(demo_db, pg_empty_url).returncode == 2  # still refused for the NUL, not as "not empty"


def test_a_killed_copy_leaves_the_postgresql_database_empty(demo_db: Path, pg_empty_url: str) -> None:
    copy = popen_copy(demo_db, pg_empty_url)
    assert copy.stderr is not None
    assert copy.stderr.readline().startswith("copy: ")  # schema laid down, rows under way
    copy.send_signal(signal.SIGKILL)
    copy.wait()
    wait_for(lambda: _tables(pg_empty_url) == [], 30, "the server to roll the killed copy back")
    p = copy_cli(demo_db, pg_empty_url)  # and the copy can simply be run again
    assert p.returncode == 0, p.stderr
    check_ok(pg_empty_url)


def test_copy_from_postgresql_while_writers_work_is_the_source_as_of_one_moment(pg_demo_url: str, tmp_path: Path) -> None:
    """As tests/copy's SQLite test, with the workers on the PostgreSQL source: the SQLite copy holds the log
    as of one moment and passes `check`."""
    dest = tmp_path / "moved.db"
    summary = copy_while_workers_commit(pg_demo_url, dest, tmp_path, seed=7)
    assert_copy_is_one_moment(event_rows(pg_demo_url), event_rows(dest), summary, dest)


def test_copy_from_sqlite_into_postgresql_while_writers_work_is_the_source_as_of_one_moment(
        demo_db: Path, pg_empty_url: str, tmp_path: Path) -> None:
    """The other snapshot: the SQLite file read on a connection of its own (rows to PostgreSQL by COPY)."""
    summary = copy_while_workers_commit(demo_db, pg_empty_url, tmp_path, seed=9)
    assert_copy_is_one_moment(event_rows(demo_db), event_rows(pg_empty_url), summary, pg_empty_url)


def test_a_row_the_sqlite_file_refuses_fails_the_copy_in_one_line_and_writes_nothing(pg_demo_url: str,
                                                                                    tmp_path: Path) -> None:
    """A line with quantity 0 in the PostgreSQL source (its CHECK dropped behind the app's back): the new
    file refuses it, so the copy stops, names the table, says nothing was written (its temp file's schema
    is no write of the command's), and leaves no file and no temp file."""
    with psycopg.connect(pg_demo_url, autocommit=True) as c:
        for (name,) in c.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'order_lines'::regclass"
                                 " AND contype = 'c'").fetchall():
            c.execute(f'ALTER TABLE order_lines DROP CONSTRAINT "{name}"')
        c.execute("UPDATE order_lines SET qty = 0 WHERE id = (SELECT MIN(id) FROM order_lines)")
    dest = tmp_path / "moved.db"
    p = copy_cli(pg_demo_url, dest)
    refusal = [line for line in p.stderr.splitlines() if not line.startswith("copy: ")]
    assert p.returncode == 2 and len(refusal) == 1, p.stderr
    assert "order_lines" in refusal[0] and "CHECK" in refusal[0] and "nothing was written" in refusal[0], refusal
    assert "earlier write" not in refusal[0]
    assert not dest.exists() and [x.name for x in tmp_path.iterdir() if x.name.startswith(".")] == []
