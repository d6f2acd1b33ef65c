"""Fixtures of the PostgreSQL tests: a fresh database per test on the session's throwaway server
(tests/conftest.py `pg_server`, shared with the suite's PostgreSQL pass)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import run_cli
from tests.pg_server import PgServer


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, initialised orderq database (a copy of the session's template)."""
    from tests.pg_server import TEMPLATE

    return pg_server.url(pg_server.new_database(template=TEMPLATE))


@pytest.fixture
def pg_empty_url(pg_server: PgServer) -> str:
    """A fresh database with nothing in it (not initialised)."""
    return pg_server.url(pg_server.new_database())


@pytest.fixture
def pg_cli(pg_server: PgServer) -> Callable[..., object]:
    """The real `orderq` on a database named by $ORDERQ_DB (the URL carries no password)."""

    def _run(url: str, *args: str, **kw):  # noqa: ANN003, ANN202
        env = {"ORDERQ_DB": url, **pg_server.env(), **kw.pop("env", {})}
        return run_cli(*args, env=env, **kw)

    return _run


@pytest.fixture(scope="session")
def _pg_demo_template(pg_server: PgServer) -> str:
    """A demo database (300 orders, seed 1, made now), as tests/conftest.py's `demo_db` on SQLite."""
    name = pg_server.new_database(template="orderq_template")
    proc = run_cli("demo", "--orders", "300", "--seed", "1", env={"ORDERQ_DB": pg_server.url(name), **pg_server.env()})
    assert proc.returncode == 0, proc.stderr
    return name


@pytest.fixture
def pg_demo_url(pg_server: PgServer, _pg_demo_template: str) -> str:
    """A fresh copy of the demo database."""
    return pg_server.url(pg_server.new_database(template=_pg_demo_template))
