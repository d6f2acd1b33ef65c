"""`orderq copy` into SQLite files (from the run's backend): identical views, a snapshot while writers work,
refusals."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import connect_db, run_cli
from tests.copy.compare import (assert_copy_is_one_moment, assert_same_views, check_ok, copy_cli,
                                copy_while_workers_commit, event_rows)
from tests.prove.conftest import fingerprint


def _contents(dest: Path | str) -> bytes | str:
    """What must stay as it was: a file's bytes, a database's rows."""
    return dest.read_bytes() if isinstance(dest, Path) else fingerprint(dest)


def test_copy_to_a_new_file_gives_the_same_orders_events_and_kpis(tmp_path: Path, demo_db: Path) -> None:
    dest = tmp_path / "moved.db"
    p = copy_cli(demo_db, dest, "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    orders = connect_db(demo_db).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert summary["ok"] and summary["tables"]["orders"] == orders and summary["rows"] > orders
    assert f"copy: orders {orders} of {orders} rows" in p.stderr  # progress on stderr, table by table
    check_ok(dest)
    assert_same_views(demo_db, dest)
    # the copy goes on where the source stopped: the next event takes the next id and chains on
    last = event_rows(dest)[-1][0]
    claimed = run_cli("--db", str(dest), "claim", "--user", "alice", "--json")
    assert claimed.returncode == 0 and claimed.stdout, claimed.stderr
    assert event_rows(dest)[-1][0] == last + 1
    check_ok(dest)


def test_copy_into_an_empty_file_is_allowed(tmp_path: Path, demo_db: Path) -> None:
    dest = tmp_path / "empty.db"
    dest.touch()
    p = copy_cli(demo_db, dest)
    assert p.returncode == 0, p.stderr
    assert "copied" in p.stdout and str(dest) in p.stdout
    check_ok(dest)


def test_a_destination_that_is_not_empty_is_refused_and_left_alone(tmp_path: Path, demo_db: Path, db_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_bytes(b"keep me")
    for dest in (other, db_path):  # any file with content; an orderq database, even one without orders
        before = _contents(dest)
        p = copy_cli(demo_db, dest)
        assert p.returncode == 2, p.stderr
        assert p.stderr.count("\n") == 1 and "not empty" in p.stderr and "Traceback" not in p.stderr
        assert _contents(dest) == before
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.endswith(".copy")) == []  # no temp file left


@pytest.mark.sqlite_only("names the SQLite source's own file under other names (a symlink, its -wal)")
def test_the_source_itself_is_refused_under_any_name(tmp_path: Path, demo_db: Path) -> None:
    link = tmp_path / "link.db"
    link.symlink_to(demo_db)
    before = event_rows(demo_db)
    for dest in (demo_db, link, Path(f"{demo_db}-wal"), tmp_path / "." / demo_db.name):
        p = copy_cli(demo_db, dest)
        assert p.returncode == 2, (dest, p.stderr)
        assert p.stderr.count("\n") == 1 and "the database" in p.stderr, p.stderr
    assert event_rows(demo_db) == before


def test_a_destination_of_an_unknown_kind_is_refused(tmp_path: Path, demo_db: Path) -> None:
    p = copy_cli(demo_db, "mysql://u:secret@host/db")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "unknown database URL scheme mysql" in p.stderr
    assert "secret" not in p.stderr


def test_copy_while_writers_work_is_the_source_as_of_one_moment(tmp_path: Path, demo_db: Path) -> None:
    """Workers commit on the source the whole time, and while the copy is frozen inside its snapshot: the
    destination is the source as of the snapshot, a consistent whole."""
    dest = tmp_path / "moved.db"
    summary = copy_while_workers_commit(demo_db, dest, tmp_path, seed=5)
    assert_copy_is_one_moment(event_rows(demo_db), event_rows(dest), summary, dest)


def test_a_source_that_is_not_an_orderq_database_or_a_destination_folder_that_is_missing_is_refused(
        tmp_path: Path, demo_db: Path) -> None:
    other = tmp_path / "theirs.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for source, dest in ((other, tmp_path / "a.db"), (demo_db, tmp_path / "missing" / "a.db")):
        p = copy_cli(source, dest)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
        assert not dest.exists()
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".")] == []  # no temp file left behind

