"""Fixtures every test area shares: real SQLite files in WAL mode, a CLI runner, a settable clock."""
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

from db.service import Desk
from db.service.identity import TEST_CLOCK_ENV
from db.store import Store
from tests.helpers import Tmux

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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """An initialised, empty database file."""
    p = tmp_path / "orderq.db"
    Store.open(p, create=True).close()
    return p


#: a demo template older than this is made again: its claims' leases (10 min) must not lapse under
#: a test that expects them live; a long run (33 min under -n 2 at load 10) saw lease_expired events
#: in tests that count events
DEMO_TEMPLATE_MAX_AGE_S = 180.0
_demo_made: dict[str, tuple[float, Path]] = {}


@pytest.fixture
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo desk (300 orders, seed 1) made at most DEMO_TEMPLATE_MAX_AGE_S ago (real clock)."""
    made = _demo_made.get("demo")
    if made is None or time.monotonic() - made[0] > DEMO_TEMPLATE_MAX_AGE_S:
        p = tmp_path_factory.mktemp("demo-template") / "demo.db"
        run_cli("--db", str(p), "demo", "--orders", "300", "--seed", "1", check=True)
        made = _demo_made["demo"] = (time.monotonic(), p)
    return made[1]


def copy_db(template: Path, dest: Path) -> Path:
    """A private WAL copy of a template database (SQLite's backup API, so the copy is consistent)."""
    src = sqlite3.connect(template)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=WAL")
    dst.close()
    return dest


@pytest.fixture
def demo_db(tmp_path: Path, _demo_template: Path) -> Path:
    """A fresh copy of a demo database (300 orders, seed 1, made now) with the demo users."""
    p = tmp_path / "demo.db"
    shutil.copyfile(_demo_template, p)
    return p


@pytest.fixture(scope="session")
def generated_demo(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`make(dest, orders=, seed=, clock=)`: the demo desk generated in-process at `clock`'s time,
    as a private WAL copy at `dest`. Each distinct desk (orders, seed, clock time, and the rules
    $ORDERQ_RULES names, if any) is generated once per session into a template and copied
    after, so tests still each get their own real file but not the generator's cost again."""
    from db import demo

    made: dict[tuple, Path] = {}

    def make(dest: Path, *, orders: int, seed: int, clock: FakeClock) -> Path:
        rules = os.environ.get("ORDERQ_RULES")
        key = (orders, seed, clock(), Path(rules).read_text(encoding="utf-8") if rules else None)
        if key not in made:
            p = tmp_path_factory.mktemp("generated-demo") / "template.db"
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
