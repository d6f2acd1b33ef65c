"""A lease that lapses shows as lapsed in a live session within seconds, with no key pressed
(issue 12 §4): the queue stops saying "working bob" once bob's lease has ended.

Real parts: a real WAL file, bob's claim made by a real `orderq` process that then exits (so
nobody renews it), a 3-second lease from a real rules file, the app on the real clock with its
real change feed. Poll-with-deadline only; no sleeps.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Digits

from db.config import default_rules_text
from db.service import Desk
from tests.helpers import until
from tests.tui_queue.conftest import run_orderq, visible_rows
from tui.app import OrderqApp
from tests.conftest import connect_db

SIZE = (120, 35)
LEASE_S = 3


@pytest.fixture
def short_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    text = default_rules_text()
    assert "lease_minutes = 10" in text
    p = tmp_path / "rules.toml"
    p.write_text(text.replace("lease_minutes = 10", f"lease_minutes = {LEASE_S / 60}"), encoding="utf-8")
    monkeypatch.setenv("ORDERQ_RULES", str(p))  # this process's store and every `orderq` child
    return p


def _row_of(app: OrderqApp, number: str) -> str | None:
    return next((r for r in visible_rows(app) if number in r), None)


async def test_queue_shows_a_lapsed_lease_as_queued_without_a_key_press(demo_db: Path, short_lease: Path) -> None:
    desk = Desk.open(demo_db, "alice")  # the real clock
    app = OrderqApp(desk, feed=True, keymap={})
    try:
        async with app.run_test(size=SIZE) as pilot:
            rc, out, err = await run_orderq("--db", str(demo_db), "claim", "--user", "bob", "--json")
            assert rc == 0, err
            number = json.loads(out)["number"]
            await pilot.press("slash", *number, "enter")  # the rep looks at that order
            assert await until(pilot, lambda: (_row_of(app, number) or "").find("bob") > 0)
            assert "in progress" in _row_of(app, number)
            # bob's process is gone and nobody renews: within seconds of the lapse, with no key
            # pressed, the row says queued and names no holder
            assert await until(pilot, lambda: "bob" not in (_row_of(app, number) or "bob"),
                                    timeout=LEASE_S + 12)
            assert "queued" in _row_of(app, number)
            # and the panel under the queue says what happened to it
            assert await until(pilot, lambda: f"system lease expired on {number}"
                               in str(app.screen.query_one("#why").render()))
    finally:
        desk.store.close()


def _holding(app: OrderqApp, rep: str) -> str:
    """The wallboard's reps table row for `rep`, as shown (empty when the rep has no row)."""
    from textual.widgets import DataTable

    from tui.screens.wallboard import WallboardScreen

    if not isinstance(app.screen, WallboardScreen):
        return ""
    table = app.screen.query_one("#reps", DataTable)
    try:
        return " ".join(str(c) for c in table.get_row(rep))
    except Exception:  # noqa: BLE001 - no row for the rep
        return ""


async def test_wallboard_stops_showing_a_lapsed_claim_without_a_key_press(demo_db: Path, short_lease: Path) -> None:
    desk = Desk.open(demo_db, "sam")  # a supervisor, on the real clock
    app = OrderqApp(desk, screen="wallboard", feed=True, keymap={})
    try:
        async with app.run_test(size=SIZE) as pilot:
            rc, out, err = await run_orderq("--db", str(demo_db), "claim", "--user", "bob", "--json")
            assert rc == 0, err
            number = json.loads(out)["number"]
            assert await until(pilot, lambda: number in _holding(app, "bob"))

            def agrees() -> bool:
                """bob holds nothing, the order is queued again, and the board's queued figure says so"""
                c = connect_db(demo_db)
                try:
                    state = c.execute("SELECT state FROM orders WHERE number = ?", (number,)).fetchone()[0]
                    queued = c.execute("SELECT COUNT(*) FROM orders WHERE state = 'queued'").fetchone()[0]
                finally:
                    c.close()
                depth = app.screen.query_one("#d-depth", Digits).value
                return number not in _holding(app, "bob") and state == "queued" and depth == str(queued)

            assert await until(pilot, agrees, timeout=LEASE_S + 12)
    finally:
        desk.store.close()
