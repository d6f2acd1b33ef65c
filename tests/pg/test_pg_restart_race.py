"""A claim race across a real restart (issue 18 §5): six real `orderq claim` loops keep claiming
while the server is stopped (`pg_ctl stop`) and started again. Each command either claims (exit 0) or is refused in one line
(exit 2, never a traceback); claiming goes on by itself once the server is back; no order is ever
claimed twice; and `orderq check` passes afterwards."""
from __future__ import annotations

import json
import threading

import psycopg

from tests.conftest import run_cli
from tests.helpers import wait_for
from tests.pg.test_pg_feed import pg_ctl, server_back  # noqa: F401 - the fixture
from tests.pg_server import PgServer

RACERS = ["alice", "bob", "dana"] * 2


def test_a_claim_race_across_a_restart_never_doubles_and_refuses_in_one_line(pg_demo_url: str,
                                                                             server_back: PgServer) -> None:  # noqa: F811
    env = {"ORDERQ_DB": pg_demo_url, **server_back.env()}
    stop = threading.Event()
    lock = threading.Lock()
    claimed: list[str] = []
    refused: list[str] = []
    odd: list[str] = []

    def race(user: str) -> None:
        while not stop.is_set():
            proc = run_cli("claim", "--user", user, "--json", env=env)
            with lock:
                if proc.returncode == 0 and proc.stdout.strip():
                    claimed.append(json.loads(proc.stdout)["number"])
                elif proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 \
                        and "Traceback" not in proc.stderr:
                    refused.append(proc.stderr.strip())
                else:
                    odd.append(f"exit {proc.returncode}: {proc.stdout!r} {proc.stderr!r}")

    with psycopg.connect(pg_demo_url) as c:
        start = c.execute("SELECT max(id) FROM events").fetchone()[0]
    threads = [threading.Thread(target=race, args=(u,), daemon=True) for u in RACERS]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(claimed) >= 6, 120, "claims before the restart")
        pg_ctl(server_back, "stop", "-m", "fast")  # a restart, held open until the racers have noticed
        wait_for(lambda: len(refused) >= len(RACERS), 120, "every racer to be refused while the server is down")
        pg_ctl(server_back, "start")
        after = len(claimed)
        wait_for(lambda: len(claimed) >= after + 6, 120, "claims after the restart")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not odd, odd
    assert len(claimed) == len(set(claimed)), "an order was claimed twice"
    with psycopg.connect(pg_demo_url) as c:
        twice = c.execute("SELECT ref, count(*) FROM events WHERE action = 'claim' AND id > %s"
                          " GROUP BY ref HAVING count(*) > 1", (start,)).fetchall()
    assert twice == []
    check = run_cli("check", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert all("nothing was written" in r for r in refused), refused
