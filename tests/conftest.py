"""Fixtures every test area shares: real databases, a CLI runner, a settable clock.

The backend switch (issue 18 §8): `pytest --backend=postgresql` (or ORDERQ_TEST_BACKEND=postgresql)
makes the shared database fixtures (`db_path`, `demo_db`, `generated_demo`, `copy_db`, `new_db`) hand
out PostgreSQL URLs instead of SQLite files: one throwaway server per test process (tests/pg_server.py),
a fresh database per test, copied from a template database (CREATE DATABASE … TEMPLATE, far cheaper
than running `orderq demo` again) and dropped after the test. Tests about one backend by nature (WAL
files, file backups, PRAGMAs) carry `@pytest.mark.sqlite_only("why")` and are left out of the
PostgreSQL pass; tests/pg/ is about PostgreSQL only and is left out of it too (the SQLite pass runs it)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db import dbapi
from db.service import Desk
from db.service.identity import TEST_CLOCK_ENV
from db.store import Store
from tests.helpers import Tmux
from tests.pg_server import SUITE_SETTINGS, TEMPLATE, PgServer

REPO = Path(__file__).resolve().parent.parent
#: the test processes may pin the clock with `--now` (cli.common.now_flag_refusal): set here, before
#: anything spawns, so every `orderq` child and private tmux server inherits it
os.environ[TEST_CLOCK_ENV] = "1"


class FakeClock:
    """The clock is passed in everywhere; tests move it by hand instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> datetime:
        self.t += timedelta(**kw)
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- the backend switch ---------------------------------------------------------------------------
BACKENDS = ("sqlite", "postgresql")
#: which backend the shared fixtures make databases on (set once, by pytest_configure)
BACKEND = "sqlite"
#: a database on either backend: a SQLite file, or a PostgreSQL URL
Db = Path | str


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=BACKENDS, default=None,
                     help="the backend of the shared database fixtures (default: $ORDERQ_TEST_BACKEND, else sqlite)")


def pytest_configure(config: pytest.Config) -> None:
    global BACKEND
    BACKEND = config.getoption("--backend") or os.environ.get("ORDERQ_TEST_BACKEND") or "sqlite"
    if BACKEND not in BACKENDS:
        raise pytest.UsageError(f"ORDERQ_TEST_BACKEND={BACKEND!r}: one of {', '.join(BACKENDS)}")
    config.addinivalue_line("markers", "sqlite_only(why): about SQLite by nature (WAL files, file backups, "
                                       "PRAGMAs); left out of the PostgreSQL pass")


def pytest_report_header(config: pytest.Config) -> str:
    return f"orderq backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, leave out what is about SQLite only, and tests/pg/ (the SQLite pass runs it:
    it starts its own databases on the same throwaway server either way)."""
    if BACKEND != "postgresql":
        return
    pg_dir = REPO / "tests" / "pg"
    keep, left = [], []
    for item in items:
        (left if item.get_closest_marker("sqlite_only") or pg_dir in Path(item.path).parents else keep).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = keep


_pg: PgServer | None = None


def pg() -> PgServer:
    """This process's throwaway PostgreSQL server, started on first use (its PGPASSFILE in the
    environment, for in-process stores and every `orderq` child), stopped when the session ends."""
    global _pg
    if _pg is None:
        server = PgServer.start(SUITE_SETTINGS)
        try:
            os.environ["PGPASSFILE"] = str(server.passfile)
            server.make_template()
        except BaseException:
            server.stop()
            raise
        _pg = server
    return _pg


def pytest_unconfigure(config: pytest.Config) -> None:
    global _pg
    if _pg is not None:
        _pg.stop()
        _pg = None


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    return pg()


def on_postgresql() -> bool:
    return BACKEND == "postgresql"


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


#: databases made for tests, dropped when their test ends (`_drop_test_databases`)
_made: list[str] = []


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """Each test's PostgreSQL databases are dropped after it (WITH FORCE: an `orderq` child it left
    behind may still hold a session), so a worker's server holds a few templates, not a thousand copies."""
    yield
    if _made and _pg is not None:
        with _pg.admin() as c:
            while _made:
                c.execute(f'DROP DATABASE IF EXISTS "{_made.pop()}" WITH (FORCE)')


def new_db(dest: Path, *, template: Db | None = None, keep: bool = False) -> Db:
    """A database of this run's backend for one test: on SQLite the file `dest` (a copy of `template`,
    else just a path: `orderq init`/`demo` or Store.open(create=True) makes it); on PostgreSQL a fresh
    database (a copy of `template`'s, else of the initialised, empty orderq template), as its URL.
    `keep`: a template of other tests' databases, not dropped when the current test ends."""
    if BACKEND != "postgresql":
        return copy_db(Path(template), dest) if template is not None else dest
    server = pg()
    name = server.new_database(template=_dbname(str(template)) if template is not None else TEMPLATE)
    if not keep:
        _made.append(name)
    return server.url(name)


def connect_db(db: Db) -> dbapi.Connection:
    """A plain connection to a test's database on either backend, for a test's own reads (and the few
    writes that stage what no command does): sqlite3's, or a PostgreSQL session in autocommit mode
    whose rows are tuples that also answer by column name."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        from db.pg.connection import connect
        from db.pg.schema import ID_TABLES

        return connect(db, id_tables=ID_TABLES)
    return sqlite3.connect(db)


@pytest.fixture
def db_path(tmp_path: Path) -> Db:
    """An initialised, empty database (a file, or a PostgreSQL URL on that backend)."""
    p = new_db(tmp_path / "orderq.db")
    if BACKEND != "postgresql":
        Store.open(p, create=True).close()
    return p


#: a demo template older than this is made again: its claims' leases (10 min) must not lapse under
#: a test that expects them live; a long run (33 min under -n 2 at load 10) saw lease_expired events
#: in tests that count events
DEMO_TEMPLATE_MAX_AGE_S = 180.0
_demo_made: dict[str, tuple[float, Db]] = {}


def template_db(tmp_path_factory: pytest.TempPathFactory, name: str) -> Db:
    """Where a session's template database goes, for `orderq demo` to fill: a path on SQLite, an
    initialised empty database (kept for the session) on PostgreSQL."""
    return new_db(tmp_path_factory.mktemp(name) / "template.db", keep=True)


@pytest.fixture
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Db:
    """The demo desk (300 orders, seed 1) made at most DEMO_TEMPLATE_MAX_AGE_S ago (real clock)."""
    made = _demo_made.get("demo")
    if made is None or time.monotonic() - made[0] > DEMO_TEMPLATE_MAX_AGE_S:
        p = template_db(tmp_path_factory, "demo-template")
        run_cli("--db", str(p), "demo", "--orders", "300", "--seed", "1", check=True)
        made = _demo_made["demo"] = (time.monotonic(), p)
    return made[1]


def copy_db(template: Db, dest: Path) -> Db:
    """A private copy of a template database: on SQLite a WAL file (SQLite's backup API, so the copy is
    consistent); on PostgreSQL a fresh database copied from the template's (`new_db`)."""
    if not isinstance(template, Path):
        return new_db(dest, template=template)
    src = sqlite3.connect(template)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=WAL")
    dst.close()
    return dest


@pytest.fixture
def demo_db(tmp_path: Path, _demo_template: Db) -> Db:
    """A fresh copy of a demo database (300 orders, seed 1, made now) with the demo users."""
    if not isinstance(_demo_template, Path):
        return new_db(tmp_path / "demo.db", template=_demo_template)
    p = tmp_path / "demo.db"
    shutil.copyfile(_demo_template, p)
    return p


@pytest.fixture(scope="session")
def generated_demo(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Db]:
    """`make(dest, orders=, seed=, clock=)`: the demo desk generated in-process at `clock`'s time,
    as a private WAL copy at `dest`. Each distinct desk (orders, seed, clock time, and the rules
    $ORDERQ_RULES names, if any) is generated once per session into a template and copied
    after, so tests still each get their own real file but not the generator's cost again."""
    from db import demo

    made: dict[tuple, Db] = {}

    def make(dest: Path, *, orders: int, seed: int, clock: FakeClock) -> Db:
        rules = os.environ.get("ORDERQ_RULES")
        key = (orders, seed, clock(), Path(rules).read_text(encoding="utf-8") if rules else None)
        if key not in made:
            p = template_db(tmp_path_factory, "generated-demo")
            store = Store.open(p, create=True, clock=FakeClock(clock()))
            try:
                demo.generate(store, orders=orders, seed=seed)
            finally:
                store.close()
            made[key] = p
        return copy_db(made[key], dest)

    return make


@pytest.fixture
def open_store(clock: FakeClock) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []

    def _open(path: Path, **kw) -> Store:  # noqa: ANN003
        s = Store.open(path, clock=kw.pop("clock", clock), **kw)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()


@pytest.fixture
def desk_for(open_store: Callable[..., Store]) -> Callable[..., Desk]:
    def _desk(path: Path, user: str | None, **kw) -> Desk:  # noqa: ANN003
        store = open_store(path, **kw)
        return Desk.for_user(store, user) if user else Desk.operator(store)

    return _desk


def run_cli(*args: str, check: bool = False, env: dict[str, str] | None = None, unset: tuple[str, ...] = (),
            input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real `orderq` console script, in its own process: outside any SSH session unless `env`
    says otherwise, and without the variables named in `unset`."""
    exe = Path(sys.executable).parent / "orderq"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY") and k not in unset}
    full_env.update(env or {})
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, input=input,
                          timeout=timeout, cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"orderq {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def rules_with_calendar(calendar_toml: str) -> str:
    """The shipped rules text with its calendar replaced by `calendar_toml` (placed first, so a
    top-level `calendar = "24x7"` is legal TOML): one way for tests to try other desk hours."""
    from db.config import default_rules_text

    text = default_rules_text()
    head, rest = text.split("# Desk hours", 1)
    tail = rest[rest.index("\n[tiers]"):]
    if calendar_toml.lstrip().startswith("["):  # a table goes last, after the top-level keys' tables
        return head + tail.rstrip("\n") + "\n\n" + calendar_toml
    return calendar_toml.rstrip("\n") + "\n\n" + head + tail


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


def find_data_dir() -> Path:
    """The real data sets: $ORDERQ_DATA, else ../shared/data beside the repo. Skips, saying why, if neither."""
    env = os.environ.get("ORDERQ_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
    for c in candidates:
        if (c / "online-retail").is_dir():
            return c
    pytest.skip("real data not found: set ORDERQ_DATA or place shared/data beside the repo")


@pytest.fixture
def data_dir() -> Path:
    return find_data_dir()


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A private tmux server for this test (tests.helpers.Tmux), killed afterwards."""
    t = Tmux(tmp_path)
    yield t
    t.close()
