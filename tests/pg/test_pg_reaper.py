"""Lapsed leases on PostgreSQL come back through one reaper at a time (issue 18 §3): a session that
finds another one returning leases goes on without them instead of reaping too, and the leases
come back once, by whichever session was the reaper. Real processes on a real server."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.pg.dialect import REAPER_LOCK
from tests.conftest import json_lines

#: a session of another process in the middle of reaping: it holds the reaper's lock (taken as
#: db.pg.dialect.try_reaper_lock takes it) until its stdin closes, then rolls back
_REAPER_IN_FLIGHT = f"""
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute("BEGIN")
    assert c.execute("SELECT pg_try_advisory_xact_lock({REAPER_LOCK})").fetchone()[0]
    print("held", flush=True)
    sys.stdin.read()
    c.execute("ROLLBACK")
"""


def _at(t: datetime) -> tuple[str, str]:
    return ("--now", t.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _holders(pg_cli, url: str, when: datetime) -> dict[str, str | None]:  # noqa: ANN001
    rows = json_lines(pg_cli(url, *_at(when), "order", "list", "--json", check=True).stdout)
    return {r["number"]: r.get("claimed_by") for r in rows}


def _expired(pg_cli, url: str) -> list[str]:  # noqa: ANN001
    return [e["ref"] for e in json_lines(pg_cli(url, "events", "--json", check=True).stdout)
            if e["action"] == "lease_expired"]


def test_while_another_session_reaps_a_read_goes_on_without_reaping(pg_demo_url: str, pg_cli, pg_server) -> None:  # noqa: ANN001
    now = datetime.now(UTC).replace(microsecond=0)
    later = now + timedelta(minutes=11)  # the default lease is 10 minutes
    held = json_lines(pg_cli(pg_demo_url, *_at(now), "claim", "--user", "alice", "--count", "2", "--json",
                             check=True).stdout)
    mine = {c["number"] for c in held}
    reaper = subprocess.Popen([sys.executable, "-c", _REAPER_IN_FLIGHT, pg_demo_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, **pg_server.env()})
    try:
        assert reaper.stdout.readline().strip() == "held"
        # the other reaper has them: this read shows what is stored, and takes nothing back itself
        assert {n: h for n, h in _holders(pg_cli, pg_demo_url, later).items() if n in mine} == dict.fromkeys(mine, "alice")
        bob = json_lines(pg_cli(pg_demo_url, *_at(later), "claim", "--user", "bob", "--json", check=True).stdout)
        assert bob and bob[0]["number"] not in mine  # he claims from the queue; nobody waited on the reap
        assert _expired(pg_cli, pg_demo_url) == []  # nor did either of them reap (the demo's own leases lapsed too)
    finally:
        reaper.communicate("", timeout=60)  # that reaper rolled back without returning them
    # the next read is the reaper now: alice's two leases come back, once each
    assert {n: h for n, h in _holders(pg_cli, pg_demo_url, later).items() if n in mine} == dict.fromkeys(mine)
    assert sorted(n for n in _expired(pg_cli, pg_demo_url) if n in mine) == sorted(mine)


def test_readers_racing_over_lapsed_leases_return_each_once(pg_demo_url: str, pg_server) -> None:  # noqa: ANN001
    now = datetime.now(UTC).replace(microsecond=0)
    later = now + timedelta(minutes=11)
    exe = str(Path(sys.executable).parent / "orderq")
    env = {**os.environ, "ORDERQ_DB": pg_demo_url, **pg_server.env()}
    took = subprocess.run([exe, *_at(now), "claim", "--user", "alice", "--count", "8", "--json"], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    mine = [c["number"] for c in json_lines(took.stdout)]
    readers = [subprocess.Popen([exe, *_at(later), "order", "list", "--json"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(6)]
    assert all(p.wait(timeout=180) == 0 for p in readers), [p.stderr.read() for p in readers]
    events = json_lines(subprocess.run([exe, "events", "--json"], env=env, capture_output=True, text=True,
                                       timeout=120, check=True).stdout)
    expired = Counter(e["ref"] for e in events if e["action"] == "lease_expired")
    assert all(n == 1 for n in expired.values()) and set(mine) <= set(expired)
