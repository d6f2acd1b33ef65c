"""Bad input on a PostgreSQL URL: one line on stderr naming the URL without its password, exit 2,
nothing written, never a traceback."""
from __future__ import annotations

import socket

import psycopg
import pytest

from tests.conftest import run_cli
from tests.pg_server import PgServer

SECRET = "not-the-password-9f3a"


def _tables(pg_server: PgServer, url: str) -> list[str]:
    with psycopg.connect(host=str(pg_server.root), port=pg_server.port, user="postgres",
                         dbname=url.rsplit("/", 1)[1]) as c:
        return [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


def _one_line_refusal(proc, *, mentions: str) -> str:  # noqa: ANN001
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert mentions in lines[0]
    assert SECRET not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("command", [("init",), ("claim", "--user", "alice"), ("check",)])
def test_an_unreachable_server_is_one_line_without_the_password(command: tuple[str, ...]) -> None:
    url = f"postgresql://alice:{SECRET}@127.0.0.1:{_closed_port()}/desk"
    line = _one_line_refusal(run_cli(*command, env={"ORDERQ_DB": url}), mentions="not reachable")
    assert "postgresql://alice@127.0.0.1:" in line


def test_a_wrong_password_is_refused_in_words_and_writes_nothing(pg_server: PgServer, pg_empty_url: str) -> None:
    proc = run_cli("init", env={"ORDERQ_DB": pg_empty_url, "PGPASSWORD": SECRET, "PGPASSFILE": "/nonexistent"})
    _one_line_refusal(proc, mentions="password was refused")
    assert _tables(pg_server, pg_empty_url) == []


def test_a_wrong_password_in_the_url_is_not_shown(pg_server: PgServer, pg_empty_url: str) -> None:
    url = pg_empty_url.replace("postgres@", f"postgres:{SECRET}@")
    _one_line_refusal(run_cli("--db", url, "init", env={"PGPASSFILE": "/nonexistent"}), mentions="password was refused")
    assert _tables(pg_server, pg_empty_url) == []


@pytest.mark.parametrize("command", [("claim", "--user", "alice"), ("events",), ("kpi",), ("check",),
                                     ("order", "list")])
def test_a_database_not_initialised_says_run_init_and_stays_empty(pg_server: PgServer, pg_empty_url: str,
                                                                  command: tuple[str, ...]) -> None:
    _one_line_refusal(run_cli(*command, env={"ORDERQ_DB": pg_empty_url}), mentions="orderq init")
    assert _tables(pg_server, pg_empty_url) == []


def test_a_database_that_does_not_exist_is_named(pg_server: PgServer) -> None:
    url = pg_server.url("no_such_desk")
    _one_line_refusal(run_cli("claim", "--user", "alice", env={"ORDERQ_DB": url}), mentions="does not exist")


def test_init_refuses_another_applications_database_untouched(pg_server: PgServer, pg_empty_url: str) -> None:
    with psycopg.connect(host=str(pg_server.root), port=pg_server.port, user="postgres",
                         dbname=pg_empty_url.rsplit("/", 1)[1], autocommit=True) as c:
        c.execute("CREATE TABLE invoices (id int)")
    _one_line_refusal(run_cli("init", env={"ORDERQ_DB": pg_empty_url}), mentions="another application")
    assert _tables(pg_server, pg_empty_url) == ["invoices"]


@pytest.mark.parametrize("url", ["mysql://alice:" + SECRET + "@db.example/desk", "sqlite:///tmp/x.db"])
def test_an_unknown_url_scheme_is_one_line(url: str, tmp_path) -> None:  # noqa: ANN001
    proc = run_cli("--db", url, "init")
    _one_line_refusal(proc, mentions="unknown database URL scheme")
    assert list(tmp_path.iterdir()) == []


def test_backup_of_a_postgresql_database_points_to_pg_dump(pg_url: str, tmp_path) -> None:  # noqa: ANN001
    dest = tmp_path / "copy.db"
    _one_line_refusal(run_cli("backup", str(dest), env={"ORDERQ_DB": pg_url}), mentions="pg_dump")
    assert not dest.exists()
