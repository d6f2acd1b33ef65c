"""The acknowledgment mailed through a real SMTP server (aiosmtpd on loopback) by real `orderq deliver`
processes: it arrives, a server that is down never blocks or loses the order, two workers send once."""
from __future__ import annotations

import json
from pathlib import Path

from db.service import Desk
from tests.conftest import run_cli
from tui.screens.wallboard import delivery_text
from tests.deliveries.conftest import mails_to, wait_mail, write_rules
from tests.helpers import wait_for


def deliveries(db: Path, rules: Path, *flags: str) -> list[dict]:
    p = run_cli("--db", str(db), "deliveries", "--json", *flags, env={"ORDERQ_RULES": str(rules)}, check=True)
    return [json.loads(line) for line in p.stdout.splitlines()]


def history(db: Path, rules: Path, number: str) -> str:
    return run_cli("--db", str(db), "order", "show", number, "--history", env={"ORDERQ_RULES": str(rules)},
                   check=True).stdout


def test_the_acknowledgment_reaches_the_contact(tmp_path, smtp, inbox, desk6_factory, workers) -> None:
    smtp.start()
    rules_path, rules = write_rules(tmp_path, smtp_port=smtp.port)
    desk = desk6_factory(rules)
    workers.start(desk.db, rules_path)
    number = desk.released_order()
    mail = wait_mail(inbox, number)
    rcpt, _ = next((r, m) for r, m in inbox.mails if m is mail)
    assert rcpt == ["pat@green.example"] and mail["To"] == "pat@green.example"
    assert mail["From"] == "orders@desk.example" and number in mail["Subject"]
    order = desk.alice.orders.get(number)
    text = mail.get_body(("plain",)).get_content()
    assert "ORDER ACKNOWLEDGMENT" in text and number in text and str(order.total) in text and "BEV-0001" in text
    html = mail.get_body(("html",)).get_content()
    assert html.startswith("<!DOCTYPE html>") and number in html
    wait_for(lambda: "acknowledgment mailed to pat@green.example" in history(desk.db, rules_path, number), 10,
             "the history line")
    assert deliveries(desk.db, rules_path) == []  # nothing pending or failed
    [(rc, out, err)] = workers.stop_all()
    assert rc == 0 and "stopped" in out and err == "", (rc, out, err)
    check = run_cli("--db", str(desk.db), "check", env={"ORDERQ_RULES": str(rules_path)})
    assert check.returncode == 0, check.stdout + check.stderr  # the worker's events keep the log consistent


def test_a_mail_server_that_is_down_never_blocks_or_loses_the_order(tmp_path, smtp, inbox, desk6_factory,
                                                                     workers) -> None:
    rules_path, rules = write_rules(tmp_path, smtp_port=smtp.port)  # nothing listens there yet
    desk = desk6_factory(rules)
    workers.start(desk.db, rules_path)
    number = desk.released_order()
    assert desk.alice.orders.get(number).state == "released"  # the release committed at once
    pending = wait_for(lambda: [d for d in deliveries(desk.db, rules_path) if d["last_error"]], 20,
                       "the failed try")
    assert pending[0]["state"] == "pending" and pending[0]["ref"] == number
    assert "cannot reach the mail server 127.0.0.1" in pending[0]["last_error"]
    assert "mail failed: cannot reach the mail server" in history(desk.db, rules_path, number)
    assert "(will retry)" in history(desk.db, rules_path, number)
    board = Desk.for_user(desk.store, "sam").kpi.wallboard()  # the supervisor's wallboard counts the backlog
    assert board.deliveries == {"pending": 1, "failed": 0}
    assert delivery_text(board.deliveries) == " · deliveries 1 pending"
    smtp.start()
    mail = wait_mail(inbox, number, timeout=60)
    assert mail["To"] == "pat@green.example"
    wait_for(lambda: deliveries(desk.db, rules_path) == [], 10, "the delivery recorded as sent")
    assert "acknowledgment mailed to pat@green.example" in history(desk.db, rules_path, number)
    assert [rc for rc, _, _ in workers.stop_all()] == [0]


def test_two_workers_send_each_mail_once(tmp_path, smtp, inbox, desk6_factory, workers) -> None:
    smtp.start()
    rules_path, rules = write_rules(tmp_path, smtp_port=smtp.port)
    desk = desk6_factory(rules)
    workers.start(desk.db, rules_path, "w1")
    workers.start(desk.db, rules_path, "w2")
    numbers = [desk.released_order() for _ in range(12)]
    wait_for(lambda: all(mails_to(inbox, n) for n in numbers), 60, "every acknowledgment")
    # every delivery recorded sent: none is in flight, so no second copy can still come
    wait_for(lambda: deliveries(desk.db, rules_path) == [], 10, "every delivery recorded as sent")
    sent = deliveries(desk.db, rules_path, "--all")
    assert len(sent) == 12 and all(d["state"] == "sent" and d["attempts"] == 1 for d in sent)
    assert sorted(m["Subject"] for _, m in inbox.mails) == sorted({m["Subject"] for _, m in inbox.mails})
    assert len(inbox.mails) == 12
    results = workers.stop_all()
    assert [rc for rc, _, _ in results] == [0, 0]
    by = [out.count(": sent") for _, out, _ in results]
    assert sum(by) == 12, by


def test_a_refused_recipient_fails_at_once_and_says_so(tmp_path, smtp, inbox, desk6_factory, workers) -> None:
    inbox.refuse = "pat@green.example"
    smtp.start()
    rules_path, rules = write_rules(tmp_path, smtp_port=smtp.port)
    desk = desk6_factory(rules)
    workers.start(desk.db, rules_path)
    number = desk.released_order()
    failed = wait_for(lambda: [d for d in deliveries(desk.db, rules_path) if d["state"] == "failed"], 20,
                      "the refusal")
    assert failed[0]["attempts"] == 1 and "550" in failed[0]["last_error"]
    assert "(given up)" in history(desk.db, rules_path, number)
    assert desk.alice.deliveries.counts() == {"pending": 0, "failed": 1}
    assert inbox.mails == []
    workers.stop_all()
