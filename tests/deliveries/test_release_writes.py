"""Which commands owe papers: a delivery is written in the same transaction as the release that causes it
(a rep's, straight through at entry, or a live import), never by a refused command or imported history."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import DomainError
from db.service import Desk
from db.service.orders import LineInput
from db.store import Store
from tests.deliveries.conftest import customer_without_contact, write_rules
from tests.intake.conftest import session_data_dir, slices  # noqa: F401 - the shared real-data slices


def rows(store: Store) -> list[tuple]:
    return [tuple(r) for r in store.conn.execute("SELECT kind, ref, state, target, last_error FROM deliveries ORDER BY id")]


def test_without_outbox_or_smtp_in_the_rules_nothing_is_owed(demo_db: Path) -> None:
    from db.config import load_rules

    store = Store.open(demo_db, rules=load_rules())
    try:
        desk = Desk.for_user(store, "alice")
        o = desk.orders.create(customer="C00006", channel="online", type="standard", lines=[LineInput("BEV-0001", 1)])
        assert o.state == "released" and rows(store) == []
    finally:
        store.close()


def test_a_release_owes_both_papers_and_the_mail_in_its_own_transaction(tmp_path, desk6_factory) -> None:
    _, rules = write_rules(tmp_path, smtp_port=2525, outbox=tmp_path)
    desk = desk6_factory(rules)
    o = desk.alice.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", 1)])
    claim = desk.alice.orders.claim(o.number)
    with pytest.raises(DomainError):  # checklist not ticked: refused, and nothing is owed
        desk.alice.orders.release(o.number, token=claim.claim_token)
    assert rows(desk.store) == []
    for step in o.checklist:
        desk.alice.orders.tick(o.number, step, token=claim.claim_token)
    desk.alice.orders.release(o.number, token=claim.claim_token)
    assert rows(desk.store) == [("file", o.number, "pending", str(tmp_path), None),
                                ("file", o.number, "pending", str(tmp_path), None),
                                ("mail", o.number, "pending", "pat@green.example", None)]
    release = [e for e in desk.alice.orders.history(o.number) if e.action == "release"][0]
    created = desk.store.conn.execute("SELECT DISTINCT created_at FROM deliveries").fetchall()
    assert [r[0] for r in created] == [release.at.timestamp()]  # the release's own moment: its transaction


def test_straight_through_owes_the_papers_and_no_contact_email_is_visible_not_retried(tmp_path, desk6_factory) -> None:
    _, rules = write_rules(tmp_path, smtp_port=2525)
    desk = desk6_factory(rules)
    o = desk.alice.orders.create(customer=customer_without_contact(desk.store), channel="online", type="standard", lines=[LineInput("BEV-0001", 1)])
    assert o.state == "released" and o.contact is None
    assert rows(desk.store) == [("mail", o.number, "failed", "", "the order has no contact email")]
    words = [e.data for e in desk.alice.orders.history(o.number) if e.action == "delivery"]
    assert words == [{"kind": "mail", "what": "acknowledgment", "target": "", "outcome": "skipped",
                      "error": "the order has no contact email"}]
    assert Desk.for_user(desk.store, "sam").kpi.wallboard().deliveries == {"pending": 0, "failed": 1}


def test_a_live_import_owes_papers_for_what_it_releases_and_history_owes_none(slices, tmp_path) -> None:  # noqa: F811
    folder = tmp_path / "outbox"
    rules_path, rules = write_rules(tmp_path, outbox=folder)
    invoices = [inv for inv in slices.head[:60] if not inv[0][0].startswith("C")]
    file = slices.file("outbox-sales.csv", invoices)
    for history, db in ((False, tmp_path / "live.db"), (True, tmp_path / "history.db")):
        store = Store.open(db, create=True, rules=rules)
        try:
            summary = Desk.operator(store, "importer").intake.import_file(file, rejects=tmp_path / "rej.csv",
                                                                          history=history)
            got = rows(store)
            if history:
                assert got == []
            else:
                released = [r[0] for r in store.conn.execute(
                    "SELECT number FROM orders WHERE straight_through = 1 ORDER BY id")]
                assert summary.straight_through == len(released) > 0
                assert sorted(r[1] for r in got) == sorted(released * 2)
        finally:
            store.close()
