"""Partners and their API keys: made, listed, rotated, disabled; the key gate's refusals are typed and
logged; the CLI's bad input is one line, exit 2, nothing written."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from core.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from db import dialect
from db.service import Desk
from db.service.partners import authenticate
from tests.conftest import connect_db, json_lines, run_cli


def _events(db: Path, since: int = 0) -> list[sqlite3.Row]:
    conn = connect_db(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM events WHERE entity = 'partner' AND id > ? ORDER BY id", (since,)).fetchall()
    finally:
        conn.close()


def _count(db: Path, sql: str) -> int:
    conn = connect_db(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_key_is_stored_hashed_and_opens_the_gate(demo_db: Path, desk_for) -> None:
    desk: Desk = desk_for(demo_db, None)
    made = desk.partners.add("webshop", "online", customer="C00003")
    assert made.key.startswith("oq_") and len(made.key) >= 40
    conn = connect_db(demo_db)
    stored = conn.execute("SELECT key_hash, key_prefix FROM partners WHERE name = 'webshop'").fetchone()
    dump = "\n".join(str(tuple(r)) for t in dialect.of(conn).tables(conn) for r in conn.execute(f"SELECT * FROM {t}"))
    conn.close()
    assert stored[0] == hashlib.sha256(made.key.encode()).hexdigest()
    assert made.key.startswith(stored[1]) and len(stored[1]) < len(made.key) // 2
    assert made.key not in dump  # not in the partners table, not in any event
    p = authenticate(desk.store, made.key)
    assert (p.name, p.channel, p.customer, p.may_set_prices) == ("webshop", "online", "C00003", False)


def test_refusals_are_typed_and_each_is_an_event(demo_db: Path, desk_for) -> None:
    desk: Desk = desk_for(demo_db, None)
    made = desk.partners.add("webshop", "online")
    before = _events(demo_db)[-1]["id"]
    with pytest.raises(Unauthenticated):
        authenticate(desk.store, None)
    with pytest.raises(Unauthenticated):
        authenticate(desk.store, made.key + "x")
    desk.partners.disable("webshop")
    with pytest.raises(PermissionDenied):
        authenticate(desk.store, made.key)
    evs = [(e["action"], e["actor"]) for e in _events(demo_db, before)]
    assert evs == [("refused", "anonymous"), ("refused", "anonymous"), ("partner_disabled", "operator"),
                   ("refused", "partner:webshop")]
    desk.partners.enable("webshop")
    assert authenticate(desk.store, made.key).active


def test_rotate_refuses_the_old_key_at_once(demo_db: Path, desk_for) -> None:
    desk: Desk = desk_for(demo_db, None)
    old = desk.partners.add("webshop", "online").key
    new = desk.partners.rotate("webshop").key
    assert new != old
    with pytest.raises(Unauthenticated):
        authenticate(desk.store, old)
    assert authenticate(desk.store, new).name == "webshop"
    assert [e["action"] for e in _events(demo_db)] == ["partner_added", "key_rotated", "refused"]


def test_only_admins_and_the_operator_manage_partners(demo_db: Path, desk_for) -> None:
    with pytest.raises(PermissionDenied, match="Only admins can manage partners"):
        desk_for(demo_db, "sam").partners.add("webshop", "online")
    assert _events(demo_db) == []  # the refusal is a permission event, not a partner
    assert _count(demo_db, "SELECT COUNT(*) FROM events WHERE entity = 'permission' AND actor = 'sam'") == 1
    assert desk_for(demo_db, "admin").partners.add("webshop", "online").partner.name == "webshop"


def test_service_refuses_bad_input_naming_the_field(demo_db: Path, desk_for) -> None:
    desk: Desk = desk_for(demo_db, None)
    for kw, field in ((dict(name="Web Shop", channel="online"), "name"), (dict(name="w", channel="fax"), "channel"),
                      (dict(name="w", channel="online", customer="NOBODY"), "customer"),
                      (dict(name="w", channel="online", webhook_secret="short"), "webhook_secret")):
        name, channel = kw.pop("name"), kw.pop("channel")
        with pytest.raises(ValidationError) as e:
            desk.partners.add(name, channel, **kw)
        assert e.value.field == field
    with pytest.raises(NotFound):
        desk.partners.rotate("nobody")
    assert _count(demo_db, "SELECT COUNT(*) FROM partners") == 0


def test_cli_add_json_prints_the_key_once_and_list_never(demo_db: Path, tmp_path: Path) -> None:
    secret = tmp_path / "shopify.secret"
    secret.write_text("a" * 64 + "\n")
    db = str(demo_db)
    out = run_cli("--db", db, "partners", "add", "webshop", "--channel", "online", "--customer", "C00003",
                  "--may-set-prices", "--webhook-secret-file", str(secret), "--json", check=True).stdout
    made = json_lines(out)
    assert len(made) == 1 and set(made[0]) == {"name", "key"} and made[0]["name"] == "webshop"
    listed = run_cli("--db", db, "partners", "list", "--json", check=True).stdout
    row = json_lines(listed)[0]
    assert made[0]["key"] not in listed and "a" * 64 not in listed
    assert row["customer"] == "C00003" and row["may_set_prices"] and row["webhook_secret"] and row["active"]
    assert made[0]["key"].startswith(row["key_prefix"])
    rotated = json_lines(run_cli("--db", db, "partners", "rotate", "webshop", "--json", check=True).stdout)[0]
    assert rotated["key"] != made[0]["key"]
    run_cli("--db", db, "partners", "disable", "webshop", check=True)
    assert not json_lines(run_cli("--db", db, "partners", "list", "--json", check=True).stdout)[0]["active"]
    run_cli("--db", db, "partners", "enable", "webshop", check=True)
    secret.write_text("b" * 64)
    run_cli("--db", db, "partners", "secret", "webshop", "--webhook-secret-file", str(secret), check=True)
    assert [e["action"] for e in _events(demo_db)] == ["partner_added", "key_rotated", "partner_disabled",
                                                       "partner_enabled", "webhook_secret_set"]


@pytest.mark.parametrize("argv", [
    ["add", "webshop", "--channel", "fax"],
    ["add", "Web Shop", "--channel", "online"],
    ["add", "webshop", "--channel", "online", "--customer", "NOBODY"],
    ["add", "webshop", "--channel", "online", "--webhook-secret-file", "/nonexistent/secret"],
    ["add", "webshop", "--channel", "online", "--webhook-secret-file", "/dev/zero"],
    ["add", "webshop", "--channel", "online", "--user", "alice"],
    ["rotate", "nobody"],
    ["disable", "nobody"],
    ["secret", "nobody", "--webhook-secret-file", "/nonexistent/secret"],
])
def test_cli_bad_input_is_one_line_exit_2_nothing_written(demo_db: Path, argv: list[str]) -> None:
    before = _count(demo_db, "SELECT COUNT(*) FROM partners")
    proc = run_cli("--db", str(demo_db), "partners", *argv)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert _count(demo_db, "SELECT COUNT(*) FROM partners") == before
    assert _count(demo_db, "SELECT COUNT(*) FROM events WHERE entity = 'partner'") == 0


def test_a_partner_disabled_after_its_key_was_checked_writes_nothing(demo_db: Path, desk_for) -> None:
    """The key passed a moment ago; the disable lands before the write: the write's own gate refuses."""
    from db.service.orders import LineInput
    from db.service.partner_api import OrderRequest, PartnerApi

    desk: Desk = desk_for(demo_db, None)
    made = desk.partners.add("webshop", "online", customer="C00003")
    api = PartnerApi.open(desk.store, authenticate(desk.store, made.key))
    desk.partners.disable("webshop")
    before = _count(demo_db, "SELECT COUNT(*) FROM orders")
    with pytest.raises(PermissionDenied, match="disabled"):
        api.create_order(OrderRequest(lines=[LineInput(sku="BEV-0001", qty=1)]), key=None, fingerprint="-")
    assert _count(demo_db, "SELECT COUNT(*) FROM orders") == before
    assert _count(demo_db, "SELECT COUNT(*) FROM events WHERE actor = 'partner:webshop' AND action = 'refused'") == 1
