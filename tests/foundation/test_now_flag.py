"""The hidden `--now` flag pins the clock for tests and demos only (SPEC §6 "Users"): without
ORDERQ_TEST_CLOCK=1, inside an SSH session, or for `orderq serve`, it is refused with one line and
exit 2, and nothing is written. (tests/conftest.py sets the switch for the test processes.)"""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import TEST_CLOCK_ENV, connect_db, json_lines

SSH = {"SSH_CONNECTION": "10.0.0.9 5555 10.0.0.1 22"}


def snapshot(db: Path) -> tuple[int, int]:
    c = connect_db(db)
    try:
        return c.execute("SELECT (SELECT COUNT(*) FROM orders), (SELECT MAX(id) FROM events)").fetchone()
    finally:
        c.close()


def backdated_order(cli, db: Path, **kw) -> object:  # noqa: ANN001, ANN003
    return cli("--db", str(db), "--now", "2019-06-01", "order", "new", "--user", "alice", "--customer", "C00001",
               "--line", "BEV-0001:1", **kw)


def test_without_the_switch_now_is_refused_and_nothing_is_written(demo_db: Path, cli) -> None:  # noqa: ANN001
    before = snapshot(demo_db)
    p = backdated_order(cli, demo_db, unset=(TEST_CLOCK_ENV,))
    assert p.returncode == 2, p.stdout
    assert p.stderr.splitlines() == [f"orderq: --now is for tests and demos only ({TEST_CLOCK_ENV}=1 in the "
                                     "environment); it is refused"]
    assert snapshot(demo_db) == before


def test_fast_forwarding_cannot_expire_a_colleagues_lease(demo_db: Path, cli) -> None:  # noqa: ANN001
    mine = json.loads(cli("--db", str(demo_db), "claim", "--user", "alice", "--json", check=True).stdout)
    p = cli("--db", str(demo_db), "--now", "+11m", "claim", "--user", "bob", "--json", unset=(TEST_CLOCK_ENV,))
    assert p.returncode == 2 and p.stdout == ""
    shown = json.loads(cli("--db", str(demo_db), "order", "show", mine["number"], "--json", check=True).stdout)
    assert shown["claimed_by"] == "alice"


def test_inside_an_ssh_session_now_is_refused_even_with_the_switch(demo_db: Path, cli) -> None:  # noqa: ANN001
    before = snapshot(demo_db)
    p = backdated_order(cli, demo_db, env={**SSH, TEST_CLOCK_ENV: "1"})
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["orderq: --now is refused inside an SSH session"]
    assert snapshot(demo_db) == before


def test_the_server_never_runs_on_a_pinned_clock(demo_db: Path, cli) -> None:  # noqa: ANN001
    p = cli("--db", str(demo_db), "--now", "2019-06-01", "serve", "--port", "0", timeout=20)
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["orderq: orderq serve always runs on the real clock; --now is refused"]


def test_with_the_switch_outside_ssh_the_test_clock_works(demo_db: Path, cli) -> None:  # noqa: ANN001
    p = backdated_order(cli, demo_db, env={TEST_CLOCK_ENV: "1"}, unset=tuple(SSH))
    assert p.returncode == 0, p.stderr
    events = json_lines(cli("--db", str(demo_db), "events", "--json", check=True).stdout)
    assert events[-1]["at"].startswith("2019-06-01")
