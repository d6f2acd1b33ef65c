"""The papers written to the rules' outbox folder by a real `orderq deliver`: both, named for the order
and the paper, written whole, never over a file that is not an earlier paper."""
from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from core.delivery import describe as delivery_words
from db.deliver.worker import Worker
from tests.conftest import FakeClock, run_cli
from tests.deliveries.conftest import write_rules
from tests.helpers import wait_for


def test_the_outbox_folder_gets_the_acknowledgment_and_the_pick_ticket(tmp_path, desk6_factory, workers) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    rules_path, rules = write_rules(tmp_path, outbox=folder)
    desk = desk6_factory(rules)
    workers.start(desk.db, rules_path)
    number = desk.released_order()
    ack, pick = folder / f"{number}.acknowledgment.html", folder / f"{number}.pick-ticket.html"
    wait_for(lambda: ack.exists() and pick.exists(), 20, "both papers in the outbox folder")
    assert "Order acknowledgment" in ack.read_text() and number in ack.read_text()
    assert "Pick ticket" in pick.read_text() and "BEV-0001" in pick.read_text() and "price" not in pick.read_text().lower()
    assert sorted(p.name for p in folder.iterdir()) == sorted([ack.name, pick.name])  # no temp file left
    wait_for(lambda: sorted(delivery_words(e.data) for e in desk.alice.orders.history(number)
                            if e.action == "delivery") == [f"acknowledgment written to {folder}",
                                                           f"pick ticket written to {folder}"], 10, "two history lines")
    assert [rc for rc, _, _ in workers.stop_all()] == [0]


def test_a_missing_folder_is_retried_and_a_foreign_file_is_never_replaced(tmp_path, desk6_factory) -> None:
    folder = tmp_path / "outbox"  # not there yet
    _, rules = write_rules(tmp_path, outbox=folder)
    clock = FakeClock(datetime.now(UTC))
    desk = desk6_factory(rules, clock)
    number = desk.released_order()
    worker = Worker(desk.store, name="t")
    tried = worker.run_once()
    assert {o.state for o in tried} == {"pending"} and "does not exist" in tried[0].error
    folder.mkdir()
    foreign = folder / f"{number}.pick-ticket.html"
    foreign.write_text("someone's own notes")
    assert worker.run_once() == []  # not due again yet: the back-off
    clock.advance(seconds=5)
    again = {o.delivery.payload["paper"]: o for o in worker.run_once()}
    assert again["ack"].state == "sent" and (folder / f"{number}.acknowledgment.html").exists()
    assert again["pick-ticket"].state == "failed" and "exists already" in again["pick-ticket"].error
    assert foreign.read_text() == "someone's own notes"


def test_a_fifo_at_the_papers_name_is_refused_without_waiting_for_a_writer(tmp_path, desk6_factory) -> None:
    """Someone's FIFO at the pick ticket's name: the worker refuses it (a real `orderq deliver --once`,
    within its deadline), the acknowledgment still goes out, the FIFO stays."""
    folder = tmp_path / "outbox"
    folder.mkdir()
    rules_path, rules = write_rules(tmp_path, outbox=folder)
    desk = desk6_factory(rules)
    number = desk.released_order()
    fifo = folder / f"{number}.pick-ticket.html"
    os.mkfifo(fifo)
    run_cli("--db", str(desk.db), "deliver", "--once", env={"ORDERQ_RULES": str(rules_path)}, check=True,
            timeout=60)
    words = sorted(delivery_words(e.data) for e in desk.alice.orders.history(number) if e.action == "delivery")
    assert words[0] == f"acknowledgment written to {folder}"
    assert "exists already and is not an orderq paper" in words[1] and "(given up)" in words[1], words
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and (folder / f"{number}.acknowledgment.html").exists()


def test_text_papers_when_the_rules_say_text(tmp_path, desk6_factory) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir()
    path, _ = write_rules(tmp_path, outbox=folder)
    path.write_text(path.read_text().replace(f'outbox = "{folder}"', f'outbox = "{folder}"\nformat = "text"'))
    from core.rules import parse_rules

    desk = desk6_factory(parse_rules(path.read_text()))
    number = desk.released_order()
    assert {o.state for o in Worker(desk.store, name="t").run_once()} == {"sent"}
    ack = (folder / f"{number}.acknowledgment.txt").read_text()
    assert ack.startswith(f"ORDER ACKNOWLEDGMENT  {number}") and "ship to:" in ack
    assert (folder / f"{number}.pick-ticket.txt").read_text().startswith(f"PICK TICKET  {number}")


def test_the_order_screen_tells_the_delivery_in_words() -> None:
    from core.models import Event
    from tui.screens.order import describe

    def ev(**data) -> Event:  # noqa: ANN003
        return Event(id=1, at=datetime.now(UTC), actor="system", entity="order", entity_id=1, ref="SO-000001",
                     action="delivery", data=data)

    assert describe(ev(kind="mail", what="acknowledgment", target="pat@green.example", outcome="sent")) \
        == "acknowledgment mailed to pat@green.example"
    assert describe(ev(kind="mail", what="acknowledgment", target="x", outcome="retrying", error="connection refused")) \
        == "mail failed: connection refused (will retry)"
    assert describe(ev(kind="mail", what="acknowledgment", target="", outcome="skipped",
                       error="the order has no contact email")) == "acknowledgment not sent: the order has no contact email"
