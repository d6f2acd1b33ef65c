"""The `orderq` command line as a script would use it: JSON shapes, exit codes, one-line refusals."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import connect_db, json_lines


def _fingerprint(p: Path) -> tuple:
    c = connect_db(p)
    try:
        return tuple(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("orders", "order_lines", "events", "users", "order_ticks"))
    finally:
        c.close()


def test_init_is_idempotent(tmp_path: Path, cli) -> None:
    db = tmp_path / "x.db"
    assert cli("--db", str(db), "init").returncode == 0
    assert cli("--db", str(db), "init").returncode == 0
    assert cli("--db", str(db), "check").returncode == 0


def test_db_defaults_to_env(tmp_path: Path, cli) -> None:
    db = tmp_path / "env.db"
    assert cli("init", env={"ORDERQ_DB": str(db)}).returncode == 0
    assert db.exists()


def test_demo_is_deterministic_for_a_seed(tmp_path: Path, cli) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        db = tmp_path / name
        cli("--db", str(db), "--now", "2026-11-26T12:00:00Z", "demo", "--orders", "400", "--seed", "42", check=True)
        c = connect_db(db)
        dumps.append(c.execute("SELECT number, state, priority, total_cents, due_at, claimed_by FROM orders ORDER BY id").fetchall())
    assert dumps[0] == dumps[1]
    other = tmp_path / "c.db"
    cli("--db", str(other), "--now", "2026-11-26T12:00:00Z", "demo", "--orders", "400", "--seed", "43", check=True)
    assert connect_db(other).execute("SELECT number, state, priority, total_cents, due_at, claimed_by FROM orders ORDER BY id").fetchall() != dumps[0]


def test_demo_has_a_realistic_mix(demo_db: Path) -> None:
    c = connect_db(demo_db)
    states = dict(c.execute("SELECT state, COUNT(*) FROM orders GROUP BY state").fetchall())
    assert {"queued", "on_hold", "released", "shipped"} <= set(states)
    assert len(dict(c.execute("SELECT channel, COUNT(*) FROM orders GROUP BY channel").fetchall())) == 6
    assert c.execute("SELECT COUNT(*) FROM orders WHERE straight_through = 1").fetchone()[0] > 0
    assert c.execute("SELECT COUNT(DISTINCT tier_rank) FROM orders").fetchone()[0] == 3
    assert c.execute("SELECT COUNT(DISTINCT hold_reason) FROM orders WHERE state='on_hold'").fetchone()[0] >= 2
    users = {r[0]: r[1] for r in c.execute("SELECT name, role FROM users")}
    named = {"alice": "rep", "bob": "rep", "carol": "returns", "sam": "supervisor", "admin": "admin"}
    assert named.items() <= users.items()
    assert sum(role == "rep" for role in users.values()) >= 8  # alice, bob and a team of six more


def test_order_show_json_has_the_contract_fields(demo_db: Path, cli) -> None:
    o = json_lines(cli("--db", str(demo_db), "order", "show", "SO-000001", "--json", check=True).stdout)[0]
    assert {"id", "number", "state", "priority", "due_at", "total", "customer", "channel", "type", "lines",
            "claimed_by", "source_ref"} <= set(o)
    assert isinstance(o["total"], str) and o["source_ref"] is None
    assert o["lines"] and {"sku", "qty", "unit_price", "amount"} <= set(o["lines"][0])


def test_order_list_json_is_every_order_in_queue_order_without_lines(demo_db: Path, cli) -> None:
    rows = json_lines(cli("--db", str(demo_db), "order", "list", "--json", check=True).stdout)
    total = connect_db(demo_db).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert len(rows) == total >= 300 and "lines" not in rows[0]
    keys = [(r["due_at"], int(r["priority"][1])) for r in rows]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


def test_order_new_and_actions_from_the_cli(demo_db: Path, cli) -> None:
    db = ("--db", str(demo_db))
    o = json_lines(cli(*db, "order", "new", "--user", "alice", "--customer", "C00003", "--channel", "phone",
                       "--type", "rush", "--line", "BEV-0001:2", "--line", "HOM-0021:1:10", "--json", check=True).stdout)[0]
    assert o["priority"] == "P1" and len(o["lines"]) == 2
    got = json_lines(cli(*db, "claim", "--user", "bob", "--number", o["number"], "--json", check=True).stdout)[0]
    for step in [s["step"] for s in o["checklist"]]:
        cli(*db, "tick", o["number"], step, "--user", "bob", "--token", got["claim_token"], check=True)
    done = json_lines(cli(*db, "release", o["number"], "--user", "bob", "--token", got["claim_token"], "--json",
                          check=True).stdout)[0]
    assert done["state"] == "released"
    assert cli(*db, "check").returncode == 0


@pytest.mark.parametrize("argv, needle", [
    (["claim", "--user", "alice", "--count", "0"], "--count"),
    (["claim", "--user", "mallory"], "unknown user 'mallory'"),
    (["order", "new", "--user", "alice", "--customer", "C00001", "--line", "BEV-0001:abc"], "not a whole number"),
    (["order", "new", "--user", "alice", "--customer", "C00001", "--line", "NOPE:1"], "unknown SKU"),
    (["order", "new", "--user", "alice", "--customer", "ZZZ", "--line", "BEV-0001:1"], "unknown customer"),
    (["order", "new", "--user", "alice", "--customer", "C00001", "--type", "weird", "--line", "BEV-0001:1"], "unknown request type"),
    (["order", "new", "--user", "alice", "--customer", "C00001", "--line", "BEV-0001:1:150"], "discount"),
    (["hold", "SO-000001", "--user", "alice", "--reason", "sunspots"], "unknown hold reason"),
    (["order", "show", "SO-999999"], "no order"),
    (["override", "SO-000001", "--user", "alice", "--reason", "x", "--priority", "P1"],
         "Only supervisors can override the class or due time of SO-000001; alice is a rep."),
    (["order", "new", "--user", "alice", "--customer"], "expected one argument"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(demo_db: Path, cli, argv, needle) -> None:
    before = _fingerprint(demo_db)
    proc = cli("--db", str(demo_db), *argv)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    after = _fingerprint(demo_db)
    refused = 1 if "Only supervisors" in needle else 0
    assert after[:2] == before[:2] and after[2] == before[2] + refused


def test_missing_database_is_a_clear_refusal(tmp_path: Path, cli) -> None:
    proc = cli("--db", str(tmp_path / "nope.db"), "order", "list")
    assert proc.returncode == 2 and "orderq init" in proc.stderr
    assert not (tmp_path / "nope.db").exists()


def test_events_are_json_lines_with_who_what_when(demo_db: Path, cli) -> None:
    rows = json_lines(cli("--db", str(demo_db), "events", "--since", "10", "--json", check=True).stdout)
    assert rows[0]["id"] == 11
    assert {"id", "at", "actor", "entity", "action", "data"} <= set(rows[0])


@pytest.mark.sqlite_only('backs up a SQLite file (PostgreSQL: pg_dump)')
def test_backup_is_consistent(demo_db: Path, tmp_path: Path, cli) -> None:
    dest = tmp_path / "backup.db"
    assert cli("--db", str(demo_db), "backup", str(dest)).returncode == 0
    assert cli("--db", str(dest), "check").returncode == 0
    assert cli("--db", str(demo_db), "backup", str(dest)).returncode == 2  # never overwrites
