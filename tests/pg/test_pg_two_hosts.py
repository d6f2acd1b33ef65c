"""Two hosts on one PostgreSQL database: two `orderq serve` processes (on two ports, standing in
for two machines) serve the same desk, a rep on each through the real OpenSSH client in tmux.

What the reps notice: each sees the other's claim on the queue by itself; a claim race across both
servers (both reps and several `orderq claim` processes) never gives an order to two people; and
when one server dies (SIGKILL) its sessions' claims go back and the other host keeps working.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.helpers import Tmux, wait_for
from tests.pg.test_pg_tui_reconnect import _row as queue_row  # the order's line on a queue screen
from tests.pg_server import PgServer
from tests.ssh.conftest import Serve, keys  # noqa: F401 - the fixture

pytestmark = [pytest.mark.ssh, pytest.mark.tmux]
ORDERQ = Path(sys.executable).parent / "orderq"
CLAIMERS = 6


def rows(url: str, sql: str, *args: object) -> list[tuple]:
    """What the database says right now (a short read, as any other session would do)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def claims_since(url: str, first_event: int) -> list[tuple[str, str, str]]:
    """(order number, actor, token) of every claim event after `first_event`."""
    got = rows(url, "SELECT ref, actor, data FROM events WHERE id > %s AND action = 'claim' ORDER BY id",
               first_event)
    return [(ref, actor, json.loads(data)["token"]) for ref, actor, data in got]


@dataclass
class Hosts:
    url: str
    one: Serve
    two: Serve
    tmux: Tmux
    first_event: int


@pytest.fixture
def hosts(pg_demo_url: str, pg_server: PgServer, pg_cli, keys: dict[str, Path], tmux: Tmux,  # noqa: ANN001, F811
          tmp_path: Path) -> Iterator[Hosts]:
    """alice on host one, bob on host two, both on the queue."""
    for name in ("alice", "bob"):
        proc = pg_cli(pg_demo_url, "users", "key", "add", name, f"{keys[name]}.pub")
        assert proc.returncode == 0, proc.stderr
    first_event = rows(pg_demo_url, "SELECT MAX(id) FROM events")[0][0]
    one = Serve(pg_demo_url, tmp_path / "host1", fake=False, env=pg_server.env())  # type: ignore[arg-type]
    two = Serve(pg_demo_url, tmp_path / "host2", fake=False, env=pg_server.env())  # type: ignore[arg-type]
    try:
        assert one.port != two.port
        tmux.new("a", one.ssh_argv(keys["alice"], "alice"), cols=120, rows=35)
        tmux.new("b", two.ssh_argv(keys["bob"], "bob"), cols=120, rows=35)
        for name, who in (("a", "alice"), ("b", "bob")):
            tmux.wait_text(name, rf"{who} \(rep\)", timeout=40)
            tmux.wait_screen(name, "Claim next", 30)
            tmux.wait_screen(name, "● live", 30)
        yield Hosts(pg_demo_url, one, two, tmux, first_event)
    finally:
        one.stop()
        two.stop()


def claim_in_tui(h: Hosts, pane: str, user: str) -> str:
    """The rep presses `c` (the order opens) and `b` (back to the queue, keeping the claim)."""
    before = {n for n, actor, _ in claims_since(h.url, h.first_event) if actor == user}
    h.tmux.send(pane, "c")
    new = wait_for(lambda: [n for n, actor, _ in claims_since(h.url, h.first_event)
                            if actor == user and n not in before], 20, f"{user}'s claim")
    h.tmux.wait_screen(pane, "Checklist", 20)
    h.tmux.send(pane, "b")
    h.tmux.wait_screen(pane, "Claim next", 20)
    return new[0]


def test_each_rep_sees_the_other_hosts_claim_live(hosts: Hosts) -> None:
    h = hosts
    a_number = claim_in_tui(h, "a", "alice")
    # bob, on the other server, presses nothing: alice's claim shows on his queue
    wait_for(lambda: "alice" in queue_row(h.tmux.screen("b"), a_number), 30,
             f"{a_number} held by alice on bob's queue (host two)")
    b_number = claim_in_tui(h, "b", "bob")
    assert b_number != a_number
    wait_for(lambda: "bob" in queue_row(h.tmux.screen("a"), b_number), 30,
             f"{b_number} held by bob on alice's queue (host one)")
    assert rows(h.url, "SELECT number, claimed_by FROM orders WHERE number IN (%s, %s) ORDER BY claimed_by",
                a_number, b_number) == [(a_number, "alice"), (b_number, "bob")]


def test_a_claim_race_across_both_servers_never_doubles(hosts: Hosts, pg_server: PgServer, pg_cli) -> None:  # noqa: ANN001
    h = hosts
    env = {"ORDERQ_DB": h.url, **pg_server.env()}

    claimers = [subprocess.Popen([str(ORDERQ), "claim", "--user", ("alice", "bob", "dana")[i % 3], "--count", "5",
                                  "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, **env})
                for i in range(CLAIMERS)]
    for _ in range(3):  # both reps claim while the processes do
        h.tmux.send("a", "c")
        h.tmux.send("b", "c")
        h.tmux.wait_screen("a", "Checklist", 30)
        h.tmux.wait_screen("b", "Checklist", 30)
        h.tmux.send("a", "b")
        h.tmux.send("b", "b")
        h.tmux.wait_screen("a", "Claim next", 30)
        h.tmux.wait_screen("b", "Claim next", 30)
    for p in claimers:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    made = claims_since(h.url, h.first_event)
    numbers = [n for n, _, _ in made]
    assert len(numbers) == CLAIMERS * 5 + 6, made  # every claimer's five and the reps' three each
    assert len(set(numbers)) == len(numbers)  # no order claimed twice
    held = dict(rows(h.url, "SELECT claim_token, claimed_by FROM orders WHERE number = ANY(%s)", numbers))
    assert held == {token: actor for _, actor, token in made}  # each held by the one who claimed it, once
    check = pg_cli(h.url, "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_killing_one_server_gives_its_claims_back_and_the_other_keeps_working(hosts: Hosts) -> None:
    h = hosts
    a_number = claim_in_tui(h, "a", "alice")
    wait_for(lambda: "alice" in queue_row(h.tmux.screen("b"), a_number), 30, f"{a_number} held by alice on bob's queue")
    h.one.proc.send_signal(signal.SIGKILL)  # host one dies: it gives nothing back itself
    h.one.proc.wait(10)
    wait_for(lambda: h.tmux.dead("a"), 20, "alice's ssh to end with its server")
    wait_for(lambda: rows(h.url, "SELECT claimed_by FROM orders WHERE number = %s", a_number) == [(None,)],
             30, f"{a_number} given back after host one died")
    ((data,),) = rows(h.url, "SELECT data FROM events WHERE ref = %s AND action = 'unclaim' AND id > %s",
                      a_number, h.first_event)
    # the session on host one was hung up (its PTY's master went with the server) and gave back itself
    assert json.loads(data)["why"] == "session ended"
    # bob, on host two, sees it come back without a key pressed, and can still claim
    wait_for(lambda: (r := queue_row(h.tmux.screen("b"), a_number)) and "alice" not in r, 30,
             f"{a_number} no longer held by alice on bob's queue")
    b_number = claim_in_tui(h, "b", "bob")
    assert rows(h.url, "SELECT claimed_by FROM orders WHERE number = %s", b_number) == [("bob",)]
    assert "Traceback" not in h.tmux.capture("b")


def test_serve_on_a_url_without_a_host_key_says_so_in_one_line(pg_demo_url: str, pg_cli) -> None:  # noqa: ANN001
    """On SQLite the host key lives beside the database file; a URL has no folder to keep it in."""
    proc = pg_cli(pg_demo_url, "serve", "--port", "0", timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "orderq: --host-key is required with a PostgreSQL database: there is no database folder to keep the "
        "host key beside"], proc.stderr
