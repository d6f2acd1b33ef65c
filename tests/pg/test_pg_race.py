"""The issue's Done-when for claims on PostgreSQL, as written: twelve processes race
`orderq claim --count 60`; no item is claimed twice, `orderq check` exits 0, and a follower reading
`orderq events --since CURSOR` in a loop the whole time saw every event. And the same race through a
`pg_ctl restart`: each claimer either succeeds or fails with one line and exit 2, never twice.

All real: the `orderq` console script in its own processes, a real server (tests/pg_server.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import json_lines, run_cli
from tests.pg_server import TEMPLATE, PgServer

EXE = str(Path(sys.executable).parent / "orderq")
CLAIMERS = 12
USERS = ("alice", "bob", "dana")

#: the follower: `orderq events --since CURSOR --json` in a loop, the cursor moved to the last id
#: each read gave; one JSON line per read ({"ids": [...]} or {"error": stderr}); stops after the
#: first read that starts once the stop file exists
_FOLLOWER = """
import json, os, subprocess, sys
exe, cursor, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while True:
    last = os.path.exists(stop)
    p = subprocess.run([exe, "events", "--since", str(cursor), "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        print(json.dumps({"error": p.stderr}), flush=True)
        sys.exit(1)
    ids = [json.loads(line)["id"] for line in p.stdout.splitlines() if line.strip()]
    print(json.dumps({"ids": ids}), flush=True)
    cursor = ids[-1] if ids else cursor
    if last:
        break
"""


@dataclass
class Proc:
    """A child whose stdout lines are collected as they come (a thread reads them)."""

    popen: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    stderr: str = ""
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, cmd: list[str], env: dict[str, str]) -> "Proc":
        p = cls(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        p.reader = threading.Thread(target=p._read, daemon=True)
        p.reader.start()
        return p

    def _read(self) -> None:
        for line in self.popen.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    def wait(self, timeout: float = 300) -> int:
        self.stderr = self.popen.stderr.read()  # type: ignore[union-attr]
        rc = self.popen.wait(timeout=timeout)
        self.reader.join(timeout)  # type: ignore[union-attr]
        return rc


def _env(url: str, server: PgServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")}
    return {**env, "ORDERQ_DB": url, **server.env()}


def _poll(what: str, done, timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def _race_template(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.new_database(template=TEMPLATE)
    proc = run_cli("demo", "--orders", "2000", "--seed", "4", env={"ORDERQ_DB": pg_server.url(name), **pg_server.env()},
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    yield name


@pytest.fixture
def race_url(pg_server: PgServer, _race_template: str) -> str:
    return pg_server.url(pg_server.new_database(template=_race_template))


def _claimers(url: str, server: PgServer) -> list[Proc]:
    return [Proc.start([EXE, "claim", "--user", USERS[i % len(USERS)], "--count", "60", "--json"], _env(url, server))
            for i in range(CLAIMERS)]


def _event_ids(url: str, server: PgServer, since: int = 0) -> list[int]:
    out = run_cli("events", "--since", str(since), "--json", env=_env(url, server), check=True, timeout=300).stdout
    return [e["id"] for e in json_lines(out)]


def test_twelve_claimers_race_and_a_follower_of_events_since_sees_every_event(
        race_url: str, pg_server: PgServer, tmp_path: Path) -> None:
    env = _env(race_url, pg_server)
    queued = {r["number"] for r in json_lines(run_cli("order", "list", "--state", "queued", "--json", env=env,
                                                      check=True).stdout)}
    cursor = max(_event_ids(race_url, pg_server))
    stop = tmp_path / "stop"
    follower = Proc.start([sys.executable, "-c", _FOLLOWER, EXE, str(cursor), str(stop)], env)
    _poll("the follower's first read", lambda: follower.lines or follower.popen.poll() is not None)

    claimers = _claimers(race_url, pg_server)
    codes = [p.wait() for p in claimers]
    assert codes == [0] * CLAIMERS, [p.stderr for p in claimers]
    claimed = [json.loads(line)["number"] for p in claimers for line in p.lines if line.strip()]
    assert len(claimed) == len(set(claimed)) == len(queued)  # every queued order, each once
    assert set(claimed) == queued

    head = max(_event_ids(race_url, pg_server, cursor))
    # the follower catches up by its own loop (no read is special), then stops
    _poll("the follower to reach the head", lambda: any(json.loads(ln).get("ids", [0])[-1:] == [head]
                                                        for ln in list(follower.lines)), timeout=300)
    stop.touch()
    assert follower.wait() == 0, follower.lines[-1:]
    reads = [json.loads(ln) for ln in follower.lines]
    seen = [i for r in reads for i in r["ids"]]
    log = _event_ids(race_url, pg_server, cursor)
    assert seen == log  # none skipped, none twice, in id order
    claim_refs = [e["ref"] for e in json_lines(run_cli("events", "--since", str(cursor), "--json", env=env,
                                                       check=True).stdout) if e["action"] == "claim"]
    assert sorted(claim_refs) == sorted(claimed)
    check = run_cli("check", env=env)
    assert check.returncode == 0, check.stdout


def test_a_claim_race_through_pg_ctl_restart_fails_in_one_line_and_never_doubles(
        race_url: str, pg_server: PgServer) -> None:
    env = _env(race_url, pg_server)
    claimers = _claimers(race_url, pg_server)
    _poll("a first claim", lambda: any(p.lines for p in claimers) or all(p.popen.poll() is not None for p in claimers))
    pg_server.restart()
    codes = [p.wait() for p in claimers]
    for p, rc in zip(claimers, codes):
        assert rc in (0, 2), (rc, p.stderr)
        if rc == 2:
            assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr
            assert "orderq-test-pw" not in p.stderr
    claimed = [json.loads(line)["number"] for p in claimers for line in p.lines if line.strip()]
    assert len(claimed) == len(set(claimed))
    # after the restart the desk works: the rest of the queue is claimed, and still nothing twice
    again = run_cli("claim", "--user", "sam", "--count", "100", "--json", env=env, check=True)
    more = [r["number"] for r in json_lines(again.stdout)]
    assert not set(more) & set(claimed)
    holders = {r["number"]: r.get("claimed_by") for r in json_lines(
        run_cli("order", "list", "--json", env=env, check=True).stdout)}
    assert all(holders[n] is not None for n in claimed + more)
    check = run_cli("check", env=env)
    assert check.returncode == 0, check.stdout
