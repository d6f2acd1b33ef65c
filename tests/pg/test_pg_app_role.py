"""`orderq init --app-role NAME` (issue 18 §4): the role the app's sessions connect as may only SELECT and
INSERT on the audit log, so UPDATE, DELETE and TRUNCATE of events are refused by privilege (before any
trigger), while the app's commands work as that role. On SQLite the flag is one line, exit 2, no file."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.conftest import json_lines, run_cli
from tests.pg_server import PgServer

PASSWORD = "app-role-pw"


@pytest.fixture
def app_role(pg_server: PgServer, pg_url: str, tmp_path: Path) -> tuple[str, str, Path]:
    """A database set up by its owner with `init --app-role`, and the role's URL and PGPASSFILE."""
    role = "app_" + pg_url.rsplit("/", 1)[1].lower()
    proc = run_cli("init", "--app-role", role, env={"ORDERQ_DB": pg_url})
    assert proc.returncode == 0, proc.stderr
    assert f"app role {role}: created" in proc.stdout
    with pg_server.admin() as c:
        c.execute(f"ALTER ROLE {role} PASSWORD '{PASSWORD}'")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg_server.port}:*:{role}:{PASSWORD}\n")
    passfile.chmod(0o600)
    return role, pg_url.replace("postgres@", f"{role}@"), passfile


def test_the_app_role_runs_the_commands(app_role: tuple[str, str, Path]) -> None:
    _role, url, passfile = app_role
    env = {"ORDERQ_DB": url, "PGPASSFILE": str(passfile)}
    for args in (("demo", "--orders", "30", "--seed", "2"), ("claim", "--user", "alice", "--count", "2", "--json"),
                 ("check",)):
        proc = run_cli(*args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
    assert len(json_lines(run_cli("events", "--json", env=env).stdout)) > 30


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory' WHERE id = 1", "DELETE FROM events",
                                       "TRUNCATE events"])
def test_the_app_role_may_not_change_or_remove_events(app_role: tuple[str, str, Path], statement: str) -> None:
    _role, url, passfile = app_role
    assert run_cli("demo", "--orders", "5", env={"ORDERQ_DB": url, "PGPASSFILE": str(passfile)}).returncode == 0
    with psycopg.connect(url, password=PASSWORD, autocommit=True) as c:
        assert c.execute("SELECT count(*) FROM events").fetchone()[0] > 5
        with pytest.raises(errors.InsufficientPrivilege):
            c.execute(statement)
        c.execute("UPDATE orders SET note = note WHERE id = 1")  # the other tables: the normal rights


def test_init_again_keeps_the_role_and_its_rights(pg_url: str, app_role: tuple[str, str, Path]) -> None:
    role, _url, _passfile = app_role
    proc = run_cli("init", "--app-role", role, env={"ORDERQ_DB": pg_url})
    assert (proc.returncode, proc.stdout.splitlines()[0]) == (0, f"app role {role}: already there; it may only SELECT "
                                                             "and INSERT on the event log (give it a password with "
                                                             "ALTER ROLE … PASSWORD)")


@pytest.mark.parametrize("name", ["Bad-Name", "pg_monitor", "x" * 64])
def test_a_bad_role_name_is_one_line_and_nothing_is_written(pg_empty_url: str, name: str) -> None:
    proc = run_cli("init", "--app-role", name, env={"ORDERQ_DB": pg_empty_url})
    assert (proc.returncode, proc.stderr.count("\n")) == (2, 1)
    assert proc.stderr.startswith("orderq: --app-role")
    with psycopg.connect(pg_empty_url) as c:
        assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def test_on_sqlite_the_app_role_is_refused_and_no_file_is_made(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    proc = run_cli("--db", str(db), "init", "--app-role", "orderq_app")
    assert (proc.returncode, proc.stderr) == (2, "orderq: --app-role is for a PostgreSQL database (a postgresql:// "
                                                 "URL); a SQLite file's access is its file permissions; nothing was "
                                                 "written\n")
    assert not db.exists()
