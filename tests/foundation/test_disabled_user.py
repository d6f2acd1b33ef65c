"""Disabling a user (SPEC §6 "Users"): their next command is refused even from a desk opened
before, their claims go back to the queue in the same transaction, and `users enable` /
`users key remove` undo and narrow access. Real WAL files, separate stores as separate sessions."""
from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from core.errors import NotFound, PermissionDenied
from db.check import run_checks
from db.service import Desk
from tests.conftest import connect_db, json_lines
from tests.ssh.conftest import db_rows as rows


def test_an_open_session_of_a_disabled_user_is_refused_its_next_command_and_the_refusal_is_logged(
        demo_db: Path, desk_for) -> None:  # noqa: ANN001
    bob = desk_for(demo_db, "bob")          # bob's session, opened while he was active
    held = bob.orders.claim_next()
    assert held is not None
    desk_for(demo_db, None).users.disable("bob")   # an admin, from another connection
    with pytest.raises(PermissionDenied, match="'bob' is disabled"):
        bob.orders.claim_next()
    checklist = bob.orders.get(held.number).checklist
    with pytest.raises(PermissionDenied, match="'bob' is disabled"):
        bob.orders.tick(held.number, checklist[0], token=held.claim_token)
    assert rows(demo_db, "SELECT COUNT(*) FROM order_ticks o JOIN orders r ON r.id = o.order_id "
                         "WHERE r.number = ? AND o.ticked_by = 'bob'", held.number) == [(0,)]
    assert rows(demo_db, "SELECT COUNT(*) FROM orders WHERE claimed_by = 'bob'") == [(0,)]
    refused = rows(demo_db, "SELECT data FROM events WHERE action = 'refused' AND actor = 'bob'")
    assert len(refused) == 2 and all(json.loads(d)["why"] == "user disabled" for (d,) in refused)


def test_disable_gives_orders_and_returns_back_in_the_same_transaction(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    bob, carol = desk_for(demo_db, "bob"), desk_for(demo_db, "carol")
    bob.orders.claim_next()
    ret = carol.returns.claim_next()
    assert ret is not None
    held = [n for (n,) in rows(demo_db, "SELECT number FROM orders WHERE claimed_by = 'bob'")]
    held_returns = [n for (n,) in rows(demo_db, "SELECT number FROM returns WHERE claimed_by = 'carol'")]
    assert held and ret.number in held_returns
    admin = desk_for(demo_db, None)
    first = rows(demo_db, "SELECT MAX(id) FROM events")[0][0]
    assert admin.users.disable("bob") == {"orders": len(held), "returns": 0, "sessions": 0}
    assert admin.users.disable("carol") == {"orders": 0, "returns": len(held_returns), "sessions": 0}
    assert rows(demo_db, "SELECT COUNT(*) FROM orders WHERE claimed_by IN ('bob','carol')") == [(0,)]
    assert rows(demo_db, "SELECT COUNT(*) FROM returns WHERE claimed_by IS NOT NULL AND claimed_by IN ('bob','carol')") \
        == [(0,)]
    for n in held:  # in progress goes back to queued
        assert rows(demo_db, "SELECT state, claim_token FROM orders WHERE number = ?", n) in ([("queued", None)],
                                                                                             [("on_hold", None)])
    drops = rows(demo_db, "SELECT ref, data FROM events WHERE id > ? AND action = 'force_release'", first)
    assert sorted(r for r, _ in drops) == sorted(held + held_returns)
    assert {json.loads(d)["reason"] for _, d in drops} == {"user bob disabled", "user carol disabled"}
    # one transaction each: bob's drops and his disable are consecutive events
    acts = [a for (a,) in rows(demo_db, "SELECT action FROM events WHERE id > ? ORDER BY id", first)]
    assert acts == ["force_release"] * len(held) + ["user_disabled"] + ["force_release"] * len(held_returns) + \
        ["user_disabled"]
    conn = connect_db(demo_db)
    conn.row_factory = sqlite3.Row
    assert all(r.ok for r in run_checks(conn)), [r.problems for r in run_checks(conn) if not r.ok]
    conn.close()


def test_enable_lets_a_disabled_user_back_in(demo_db: Path, cli) -> None:  # noqa: ANN001
    db = str(demo_db)
    assert cli("--db", db, "users", "disable", "bob").returncode == 0
    refused = cli("--db", db, "claim", "--user", "bob")
    assert refused.returncode == 2 and refused.stderr.strip() == "orderq: user 'bob' is disabled"
    again = cli("--db", db, "users", "disable", "bob")
    assert again.returncode == 2 and "disabled already" in again.stderr
    assert cli("--db", db, "users", "enable", "bob").stdout.strip() == "user bob enabled"
    assert cli("--db", db, "claim", "--user", "bob", "--json", check=True).stdout.strip()
    twice = cli("--db", db, "users", "enable", "bob")
    assert twice.returncode == 2 and "active already" in twice.stderr
    listed = {r["name"]: r for r in json_lines(cli("--db", db, "users", "list", "--json", check=True).stdout)}
    assert listed["bob"]["active"] is True
    assert [e["action"] for e in json_lines(cli("--db", db, "events", "--json").stdout)
            if e["entity"] == "user" and e["ref"] == "bob"][-2:] == ["user_disabled", "user_enabled"]


def test_a_single_key_is_removed_by_its_fingerprint(demo_db: Path, tmp_path: Path, cli) -> None:  # noqa: ANN001
    db = str(demo_db)
    fps = []
    for name in ("one", "two"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(tmp_path / name)],
                       check=True, capture_output=True)
        out = cli("--db", db, "users", "key", "add", "bob", str(tmp_path / f"{name}.pub"), check=True).stdout
        fps.append(out.split()[1])
    listed = {r["name"]: r for r in json_lines(cli("--db", db, "users", "list", "--json", check=True).stdout)}
    assert listed["bob"]["fingerprints"] == fps and listed["bob"]["keys"] == 2
    assert all(fp in cli("--db", db, "users", "list", check=True).stdout for fp in fps)
    assert cli("--db", db, "users", "key", "remove", "bob", fps[0]).returncode == 0
    listed = {r["name"]: r for r in json_lines(cli("--db", db, "users", "list", "--json", check=True).stdout)}
    assert listed["bob"]["fingerprints"] == [fps[1]]
    gone = cli("--db", db, "users", "key", "remove", "bob", fps[0])
    assert gone.returncode == 2 and len(gone.stderr.splitlines()) == 1 and "has no key" in gone.stderr
    # only an admin may: alice (rep) is refused, and the refusal is an event
    denied = cli("--db", db, "users", "key", "remove", "bob", fps[1], "--user", "alice")
    assert denied.returncode == 2 and "Only admins can manage users; alice is a rep." in denied.stderr
    assert cli("--db", db, "users", "enable", "bob", "--user", "alice").returncode == 2
    assert rows(demo_db, "SELECT COUNT(*) FROM user_keys k JOIN users u ON u.id = k.user_id "
                         "WHERE u.name = 'bob'") == [(1,)]
    evs = json_lines(cli("--db", db, "events", "--json").stdout)
    assert [e["data"]["fingerprint"] for e in evs if e["action"] == "key_removed"] == [fps[0]]
    assert sum(1 for e in evs if e["action"] == "refused" and e["actor"] == "alice") == 2


def test_removing_a_key_of_an_unknown_user_is_refused(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    with pytest.raises(NotFound):
        desk_for(demo_db, None).users.remove_key("nobody", "SHA256:abc")


def test_operator_desk_is_not_gated_on_a_user_row(demo_db: Path, desk_for) -> None:  # noqa: ANN001
    """The shell operator (no user row) keeps working: the gate is about user sessions."""
    op: Desk = desk_for(demo_db, None)
    op.users.add("frank", "rep")
    op.users.disable("frank")
    op.users.enable("frank")


def test_every_service_write_goes_through_the_active_user_gate() -> None:
    """A new command that opened `store.write()` itself would let a disabled user act again.
    The only exceptions: logging a refusal, a session giving back its work on the way out, the
    system returning lapsed leases to the queue (settle_leases: no user's act, whoever's read ran it),
    and a partner's own gate (PartnerContext.write: the same check, against the partners table), and
    freeing the Idempotency-Key of a refused order (idempotency.IdempotencyKeys.free: it writes no act, only undoes
    the key's reservation, and must work for a partner disabled meanwhile)."""
    import ast

    from tests.conftest import REPO

    allowed = {("context.py", "write"), ("context.py", "_refuse"), ("returns_intake.py", "_log_refusal"),
               ("claiming.py", "give_back"), ("claiming.py", "settle_leases"), ("sessions.py", "end"),
               ("partner_api.py", "write"), ("idempotency.py", "free")}
    found = set()
    for path in sorted((REPO / "db" / "service").glob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Attribute) and node.attr == "write" and \
                            isinstance(node.value, ast.Attribute) and node.value.attr == "store":
                        found.add((path.name, fn.name))
    assert found - allowed == set(), "these open a write transaction without Context.write's active-user check"
