"""Smoke tests of the delivery worker, the returns commands and the user commands on a real PostgreSQL
server (issue 18 §1 "every command works on it"): each runs as the real `orderq`, exits 0, and leaves a
database `orderq check` passes; a refusal is one line, exit 2, as on SQLite."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg

from db.service import Desk
from db.store import Store
from tests.conftest import json_lines, run_cli
from tests.deliveries.conftest import write_rules


def test_deliver_once_writes_the_papers_of_a_released_order(pg_demo_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    rules_path, rules = write_rules(tmp_path, outbox=folder)
    store = Store.open(pg_demo_url, rules=rules)
    try:
        alice = Desk.for_user(store, "alice")
        from db.service.orders import LineInput

        o = alice.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", 1)])
        claim = alice.orders.claim(o.number)
        for step in o.checklist:
            alice.orders.tick(o.number, step, token=claim.claim_token)
        alice.orders.release(o.number, token=claim.claim_token)
    finally:
        store.close()
    env = {"ORDERQ_DB": pg_demo_url, "ORDERQ_RULES": str(rules_path)}
    proc = run_cli("deliver", "--once", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].endswith(" tried")
    assert sorted(p.name for p in folder.iterdir()) == [f"{o.number}.acknowledgment.html", f"{o.number}.pick-ticket.html"]
    sent = [d for d in json_lines(run_cli("deliveries", "--all", "--json", env=env).stdout) if d["ref"] == o.number]
    assert sorted(d["state"] for d in sent) == ["sent", "sent"]
    assert run_cli("deliver", "--once", env=env).stdout.strip().splitlines()[-1] == "0 tried"  # nothing twice
    assert run_cli("check", env=env).returncode == 0


def _shipped_line(url: str) -> dict:
    with psycopg.connect(url) as c:
        number, sku, left = c.execute(
            """SELECT o.number, l.sku, l.qty - l.qty_returned FROM order_lines l JOIN orders o ON o.id = l.order_id
               WHERE o.state IN ('shipped', 'closed') AND l.qty - l.qty_returned >= 1
                 AND (SELECT COUNT(*) FROM order_lines x WHERE x.order_id = o.id AND x.sku = l.sku) = 1
               ORDER BY o.id LIMIT 1""").fetchone()
    return {"number": number, "sku": sku, "left": left}


def test_a_return_from_request_to_close(pg_demo_url: str) -> None:
    env = {"ORDERQ_DB": pg_demo_url}

    def cli(*args: str) -> str:
        proc = run_cli(*args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout

    ln = _shipped_line(pg_demo_url)
    d = json.loads(cli("return", "new", "--user", "carol", "--order", ln["number"], "--line",
                       f"{ln['sku']}:{ln['left']}:defective", "--resolution", "refund", "--json"))
    early = run_cli("return", "close", d["number"], "--user", "carol", env=env)
    assert (early.returncode, early.stderr.count("\n")) == (2, 1) and "Traceback" not in early.stderr
    step = {"requested": "authorize", "pending_approval": "approve"}[d["state"]]
    cli("return", step, d["number"], "--user", "sam")  # a supervisor
    cli("return", "receive", d["number"], "--user", "carol", "--line", f"{ln['sku']}:{ln['left']}")
    cli("return", "inspect", d["number"], "--user", "carol", "--all", "like_new:restock")
    assert "refund =" in cli("return", "resolve", d["number"], "--user", "carol")
    cli("return", "close", d["number"], "--user", "carol")
    shown = json.loads(cli("return", "show", d["number"], "--json"))
    assert (shown["state"], shown["lines"][0]["disposition"]) == ("closed", "restock")
    assert d["number"] in cli("return", "list", "--json")
    cli("check")


def test_users_add_list_disable_enable(pg_demo_url: str) -> None:
    env = {"ORDERQ_DB": pg_demo_url}
    assert run_cli("users", "add", "sue", "--role", "supervisor", "--user", "admin", env=env).returncode == 0
    again = run_cli("users", "add", "sue", "--role", "rep", "--user", "admin", env=env)
    assert (again.returncode, again.stderr.count("\n")) == (2, 1)
    assert run_cli("users", "disable", "sue", "--user", "admin", env=env).returncode == 0
    refused = run_cli("claim", "--user", "sue", env=env)
    assert (refused.returncode, refused.stderr.count("\n")) == (2, 1)
    assert run_cli("users", "enable", "sue", "--user", "admin", env=env).returncode == 0
    listed = run_cli("users", "list", env=env)
    assert listed.returncode == 0 and "sue" in listed.stdout
    assert run_cli("check", env=env).returncode == 0
