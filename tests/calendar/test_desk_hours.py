"""Desk hours on the SLA clock, as a user meets them: the CLI's due_at, the rules file's calendar,
and what the queue says while the desk is closed (issue 13, item 4)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.service import Desk
from db.service.orders import LineInput
from tests.calendar.conftest import queue_db  # noqa: F401 - fixture
from tests.conftest import connect_db, rules_with_calendar
from tests.helpers import until
from tui.screens.queue import QueueView

FRIDAY_17 = "2026-11-27T17:00:00Z"


def standard_customer(db: Path) -> str:
    """A standard-tier customer (a key account would raise the class) with room on its credit."""
    c = connect_db(db)
    try:
        return c.execute("SELECT code FROM customers WHERE tier = 'standard'"
                         " ORDER BY credit_limit_cents - open_balance_cents DESC LIMIT 1").fetchone()[0]
    finally:
        c.close()


def counts(db: Path) -> tuple[int, int]:
    c = connect_db(db)
    try:
        return c.execute("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM events)").fetchone()
    finally:
        c.close()


def new_p2_order(cli, db: Path, env: dict[str, str] | None = None):  # noqa: ANN001, ANN201
    return cli("--db", str(db), "--now", FRIDAY_17, "order", "new", "--user", "alice",
               "--customer", standard_customer(db), "--type", "change", "--channel", "phone",
               "--line", "BEV-0001:1", "--received-at", FRIDAY_17, "--json", env=env)


def test_a_p2_order_received_friday_17_00_is_due_monday_11_00(demo_db: Path, cli) -> None:  # noqa: ANN001
    p = new_p2_order(cli, demo_db)
    assert p.returncode == 0, p.stderr
    o = json.loads(p.stdout)
    assert (o["priority"], o["received_at"], o["due_at"]) == ("P2", FRIDAY_17, "2026-11-30T11:00:00Z")
    shown = cli("--db", str(demo_db), "--now", "2026-11-28T12:00:00Z", "order", "show", o["number"], check=True)
    # Saturday: Friday 17:00–18:00 ran the clock, Monday 08:00–11:00 is what is left (not "1d 23h")
    assert "due in 3h 00m" in shown.stdout


def test_a_24x7_rules_file_keeps_round_the_clock_due_times(demo_db: Path, cli, tmp_path: Path) -> None:  # noqa: ANN001
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_with_calendar('calendar = "24x7"'))
    p = new_p2_order(cli, demo_db, env={"ORDERQ_RULES": str(rules)})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["due_at"] == "2026-11-27T21:00:00Z"


BAD = [
    ('[calendar.hours]\nmon = ["09:00-08:00"]\n', "calendar.hours.mon", "ends before it starts"),
    ('[calendar.hours]\ntue = ["08:00-12:00", "11:00-18:00"]\n', "calendar.hours.tue", "overlaps"),
    ('[calendar.hours]\nfunday = ["08:00-18:00"]\n', "calendar.hours.funday", "unknown weekday"),
    ('[calendar]\nzone = "Mars/Olympus_Mons"\n', "calendar.zone", "unknown time zone"),
]


@pytest.mark.parametrize(("toml", "key", "words"), BAD)
def test_a_bad_calendar_stops_the_cli_naming_its_key(demo_db: Path, cli, tmp_path: Path, toml, key, words) -> None:  # noqa: ANN001
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_with_calendar(toml))
    before = counts(demo_db)
    p = new_p2_order(cli, demo_db, env={"ORDERQ_RULES": str(rules)})
    assert p.returncode == 2
    assert len(p.stderr.splitlines()) == 1 and key in p.stderr and words in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert counts(demo_db) == before


def test_a_bad_calendar_stops_orderq_tui(demo_db: Path, cli, tmp_path: Path) -> None:  # noqa: ANN001
    rules = tmp_path / "rules.toml"
    rules.write_text(rules_with_calendar(BAD[1][0]))
    r = cli("--db", str(demo_db), "tui", "--user", "alice", env={"ORDERQ_RULES": str(rules)})
    assert r.returncode == 2
    assert "calendar.hours.tue" in r.stderr and "Traceback" not in r.stderr


async def test_the_app_stops_when_its_deferred_rules_have_a_bad_calendar(queue_db: Path, clock, tmp_path: Path,  # noqa: ANN001, F811
                                                                        monkeypatch) -> None:
    """The first paint reads the calendar without pydantic; the validation right after it stops
    the app (exit 2) with the key named, as for any bad rules key."""
    from db.store import Store
    from tui.app import OrderqApp

    rules = tmp_path / "rules.toml"
    rules.write_text(rules_with_calendar(BAD[0][0]))
    monkeypatch.setenv("ORDERQ_RULES", str(rules))
    store = Store.open(queue_db, clock=clock, defer_rules=True)
    try:
        app = OrderqApp(Desk.for_user(store, "alice"), feed=False, keymap={}, session=False)
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 2
        assert "calendar.hours.mon" in app.exit_error and "ends before it starts" in app.exit_error
    finally:
        store.close()


async def test_the_queue_says_the_desk_is_closed_and_counts_open_time(queue_db: Path, clock, make_app) -> None:  # noqa: ANN001, F811
    clock.t = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # Friday 17:00
    desk = Desk.open(queue_db, "alice", clock=clock)
    try:
        o = desk.orders.create(customer=standard_customer(queue_db), channel="phone", type="change",
                               lines=[LineInput("BEV-0001", 1)])
    finally:
        desk.store.close()
    assert o.due_at == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    clock.t = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday 10:00
    app = make_app(queue_db)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        bar = str(app.screen.query_one("#qbar").render())
        assert "desk closed — opens Mon 08:00" in bar
        app.screen.query_one(QueueView).select_id(o.id)
        assert await until(pilot, lambda: o.number in str(app.screen.query_one("#why").render()))
        why = str(app.screen.query_one("#why").render())
        assert "due in 3h 00m (2026-11-30 11:00 UTC)" in why, why  # open time: Mon 08:00–11:00
    clock.t = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 09:00: open, two hours left
    app = make_app(queue_db)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert "desk closed" not in str(app.screen.query_one("#qbar").render())
