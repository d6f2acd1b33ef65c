"""Two supervisors reassigning one order at once: the one who acted on what they saw wins, the
other is told the order changed (every write checks the row's version, SPEC §6)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import Conflict
from tests.conftest import REPO, run_cli


def _claimed_order(cli, db: Path) -> dict:  # noqa: ANN001
    got = json.loads(cli("--db", str(db), "claim", "--user", "alice", "--json", check=True).stdout)
    return json.loads(cli("--db", str(db), "order", "show", got["number"], "--json", check=True).stdout)


def test_the_second_reassign_of_what_both_saw_is_told_it_changed(demo_db: Path, desk_for, cli) -> None:  # noqa: ANN001
    cli("--db", str(demo_db), "users", "add", "sue", "--role", "supervisor", check=True)
    order = _claimed_order(cli, demo_db)
    sam, sue = desk_for(demo_db, "sam"), desk_for(demo_db, "sue")
    seen = order["version"]                      # both open the wallboard on the same row
    sam.orders.reassign(order["number"], "bob", expected_version=seen)
    with pytest.raises(Conflict, match="changed since you opened it"):
        sue.orders.reassign(order["number"], "alice", expected_version=seen)
    assert sue.orders.get(order["number"]).claimed_by == "bob"


def test_two_processes_race_and_exactly_one_wins(demo_db: Path, cli) -> None:  # noqa: ANN001
    cli("--db", str(demo_db), "users", "add", "sue", "--role", "supervisor", check=True)
    cli("--db", str(demo_db), "users", "add", "dave", "--role", "rep", check=True)
    order = _claimed_order(cli, demo_db)
    exe = Path(sys.executable).parent / "orderq"
    argv = [str(exe), "--db", str(demo_db), "reassign", order["number"], "--expect-version", str(order["version"])]
    procs = {to: subprocess.Popen([*argv, "--to", to, "--user", sup], cwd=REPO, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for sup, to in (("sam", "bob"), ("sue", "dave"))}
    results = {to: (p.wait(60), *p.communicate()) for to, p in procs.items()}
    won = [to for to, (rc, _out, _err) in results.items() if rc == 0]
    lost = [(to, err) for to, (rc, _out, err) in results.items() if rc != 0]
    assert len(won) == 1 and len(lost) == 1, results
    assert results[lost[0][0]][0] == 2 and "changed since you opened it" in lost[0][1]
    shown = json.loads(run_cli("--db", str(demo_db), "order", "show", order["number"], "--json", check=True).stdout)
    assert shown["claimed_by"] == won[0]
    assert run_cli("--db", str(demo_db), "check").returncode == 0
