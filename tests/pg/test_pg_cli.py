"""The issue's first Done-when through the real CLI on a real PostgreSQL server, beside SQLite:
`init`, `demo`, `claim` give the same items in the same order, and `check`, `events`, `order list`
and `kpi` give the same output (claim tokens and hashes aside: tokens are random)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import json_lines, run_cli
from tests.pg_server import PgServer

NOW = ("--now", "2026-12-01T10:00:00Z")
#: random per claim, so different on two runs whatever the backend; the hash chain covers them
_RANDOM = re.compile(r'"(claim_token|token|was|hash|prev_hash)": "[0-9a-f]+"')


@dataclass
class TwoDesks:
    url: str
    sqlite_db: Path
    queued_before: list[str]
    claimed: tuple[str, str]  # `claim --count 5 --json` output: PostgreSQL, SQLite

    def pg(self, *args: str):  # noqa: ANN201
        return run_cli(*NOW, *args, env={"ORDERQ_DB": self.url})

    def lite(self, *args: str):  # noqa: ANN201
        return run_cli("--db", str(self.sqlite_db), *NOW, *args)


@pytest.fixture(scope="module")
def desks(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> TwoDesks:
    """The same desk on both backends: `init`, `demo --seed 3`, then five orders and a return claimed."""
    d = TwoDesks(pg_server.url(pg_server.new_database()), tmp_path_factory.mktemp("two-desks") / "desk.db", [], ("", ""))
    for args in (("init",), ("demo", "--seed", "3")):
        assert d.pg(*args).returncode == 0
        assert d.lite(*args).returncode == 0
    d.queued_before = [r["number"] for r in json_lines(d.pg("order", "list", "--state", "queued", "--json").stdout)]
    claim = ("claim", "--user", "alice", "--count", "5", "--json")
    pg, lite = d.pg(*claim), d.lite(*claim)
    assert (pg.returncode, lite.returncode) == (0, 0), pg.stderr
    d.claimed = (pg.stdout, lite.stdout)
    for desk in (d.pg, d.lite):
        assert desk("claim", "--queue", "returns", "--user", "carol").returncode == 0
    return d


def test_init_demo_claim_gives_five_distinct_items_in_queue_order_as_on_sqlite(desks: TwoDesks) -> None:
    got = [r["number"] for r in json_lines(desks.claimed[0])]
    assert len(set(got)) == 5
    assert got == desks.queued_before[:5]
    assert got == [r["number"] for r in json_lines(desks.claimed[1])]


@pytest.mark.parametrize("command", [("check",), ("check", "--json"), ("events", "--json"), ("order", "list", "--json"),
                                     ("kpi", "--json")])
def test_read_commands_print_the_same_on_both_backends(desks: TwoDesks, command: tuple[str, ...]) -> None:
    pg, lite = desks.pg(*command), desks.lite(*command)
    assert (pg.returncode, pg.stderr) == (lite.returncode, lite.stderr) == (0, "")
    assert _RANDOM.sub("", pg.stdout) == _RANDOM.sub("", lite.stdout)
    assert len(pg.stdout) > 50
