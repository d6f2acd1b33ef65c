"""The back-off schedule (core.delivery), the rules keys, and the outbox's lease (db.outbox) on a real file."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from core.delivery import GIVE_UP_AFTER, MAX_DELAY, DeliveryState, after_failure, paper_file_name, retry_delay
from core.errors import RulesError
from core.rules import parse_rules
from db import outbox
from db.store import Store
from tests.conftest import run_cli
from tests.deliveries.conftest import rules_text

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_backoff_doubles_from_one_second_and_stops_at_thirty() -> None:
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


@given(st.integers(min_value=1, max_value=10**9))
def test_no_wait_is_ever_longer_than_the_cap(attempts: int) -> None:
    assert timedelta(0) < retry_delay(attempts) <= MAX_DELAY


def test_a_delivery_is_retried_for_a_day_then_failed() -> None:
    """Tried at every back-off from T0, it is still pending just short of 24 h, and failed at the first try after."""
    now, attempts = T0, 0
    while True:
        attempts += 1
        state, next_at = after_failure(attempts=attempts, created_at=T0, now=now)
        if state == DeliveryState.FAILED:
            break
        assert next_at - now <= MAX_DELAY
        now = next_at
    assert GIVE_UP_AFTER <= now - T0 <= GIVE_UP_AFTER + MAX_DELAY
    assert after_failure(attempts=1, created_at=T0, now=T0, permanent=True) == (DeliveryState.FAILED, None)


def test_paper_file_names_say_order_and_paper_and_never_leave_the_folder() -> None:
    assert paper_file_name("SO-000123", "ack", "html") == "SO-000123.acknowledgment.html"
    assert paper_file_name("SO-000123", "pick-ticket", "text") == "SO-000123.pick-ticket.txt"
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            paper_file_name(bad, "ack", "html")


@pytest.mark.parametrize(("extra", "key"), [
    ('[papers]\noutbox = "relative/dir"', "papers.outbox"),
    ('[papers]\nformat = "pdf"', "papers.format"),
    ('[smtp]\nhost = "mail"\nport = 0\nfrom_address = "a@b.example"', "smtp.port"),
    ('[smtp]\nhost = "mail"', "smtp"),
    ('[smtp]\nfrom_address = "not an address"', "smtp.from_address"),
    ('[smtp]\nhost = "mail"\nfrom_address = "a@b.example"\nuser = "u"', "smtp"),
    ('[smtp]\nhost = "mail"\nfrom_address = "a@b.example"\nuser = "u"\npassword_file = "pw.txt"', "smtp.password_file"),
    ('[smtp]\nhots = "mail"', "smtp.hots"),
])
def test_a_bad_papers_or_smtp_key_names_itself(extra: str, key: str) -> None:
    with pytest.raises(RulesError) as e:
        parse_rules(rules_text() + "\n" + extra)
    assert f"bad key {key!r}" in e.value.message


def test_a_bad_smtp_key_stops_the_app_with_one_line(tmp_path) -> None:
    db = tmp_path / "o.db"
    Store.open(db, create=True).close()
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_text() + '\n[smtp]\nhost = "mail"\nport = 99999\nfrom_address = "a@b.example"\n')
    for cmd in (["deliver", "--once"], ["deliveries"]):
        p = run_cli("--db", str(db), *cmd, env={"ORDERQ_RULES": str(rules)})
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "'smtp.port'" in p.stderr, p.stderr


def test_an_unreadable_password_file_stops_the_worker_naming_the_key_not_the_secret(tmp_path) -> None:
    db = tmp_path / "o.db"
    Store.open(db, create=True).close()
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_text() + f'\n[smtp]\nhost = "127.0.0.1"\nfrom_address = "a@b.example"\nuser = "u"\n'
                     f'password_file = "{tmp_path / "missing"}"\n')
    p = run_cli("--db", str(db), "deliver", "--once", env={"ORDERQ_RULES": str(rules)})
    assert p.returncode == 2 and "'smtp.password_file'" in p.stderr and p.stderr.count("\n") == 1, p.stderr
    rules.write_text(rules_text() + '\n[smtp]\nhost = "127.0.0.1"\nfrom_address = "a@b.example"\nuser = "u"\n'
                     'password_env = "OUTBOX_TEST_PW"\n')
    p = run_cli("--db", str(db), "deliver", "--once", env={"ORDERQ_RULES": str(rules)}, unset=("OUTBOX_TEST_PW",))
    assert p.returncode == 2 and "'smtp.password_env'" in p.stderr
    p = run_cli("--db", str(db), "deliver", "--once", env={"ORDERQ_RULES": str(rules), "OUTBOX_TEST_PW": "s3cret!"})
    assert p.returncode == 0 and "s3cret" not in p.stdout + p.stderr


def test_deliver_runs_on_the_real_clock_only(tmp_path) -> None:
    db = tmp_path / "o.db"
    Store.open(db, create=True).close()
    p = run_cli("--db", str(db), "--now", "2026-01-01T00:00", "deliver", "--once")
    assert p.returncode == 2 and "real clock" in p.stderr


def test_a_leased_delivery_goes_to_one_worker_and_back_when_the_lease_lapses(db_path) -> None:
    a, b = Store.open(db_path), Store.open(db_path)  # two connections: two workers
    try:
        with a.write() as c:
            did = outbox.enqueue(c, kind="webhook", target="http://127.0.0.1:9/x", payload={"event": "e1"}, now=T0)
        with a.write() as c:
            got = outbox.claim_next(c, worker="a", now=T0, lease=timedelta(minutes=2))
        with b.write() as c:
            assert outbox.claim_next(c, worker="b", now=T0 + timedelta(seconds=1)) is None  # held by a
            assert outbox.claim_next(c, worker="b", now=T0, kinds=["mail"]) is None
        assert got is not None and got.id == did and got.attempts == 1 and got.payload == {"event": "e1"}
        later = T0 + timedelta(minutes=3)  # a died mid-send: its lease lapsed
        with b.write() as c:
            again = outbox.claim_next(c, worker="b", now=later)
        assert again is not None and again.id == did and again.attempts == 2
        with a.write() as c:
            assert outbox.mark_sent(c, got, now=later) is False  # a's token is fenced out
            assert outbox.mark_try_failed(c, got, now=later, error="late") is None
        with b.write() as c:
            assert outbox.mark_sent(c, again, now=later) is True
        with a.read() as c:
            assert outbox.counts(c) == {"pending": 0, "failed": 0} and outbox.next_due(c) is None
    finally:
        a.close()
        b.close()


def test_a_delivery_is_written_only_inside_a_transaction(db_path) -> None:
    s = Store.open(db_path)
    try:
        with pytest.raises(RuntimeError):
            outbox.enqueue(s.conn, kind="mail", target="x@y.example", payload={}, now=T0)
    finally:
        s.close()
