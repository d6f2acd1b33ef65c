"""The wallboard in a Pilot: live from another process, refused to non-supervisors, actions by keyboard."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.theme import Theme
from textual.widgets import DataTable, Digits, Label, Static

from db.convert import ts
from db.service import Desk
from tests.conftest import REPO, FakeClock
from tests.helpers import until
from tests.kpi.wallapp import WallApp
from tui.messages import StoreChanged
from tui.screens.wallboard import WallboardScreen
from tui.widgets.form_dialog import FormDialog


@asynccontextmanager
async def board(path: Path, user: str, clock: FakeClock, *, size: tuple[int, int] = (80, 24), feed: bool = False,
                themes: tuple[Theme, ...] = ()) -> AsyncIterator[tuple[WallApp, Pilot]]:
    """The board for `user`, once it has painted its first figures (or been refused)."""
    desk = Desk.open(path, user, clock=clock)
    app = WallApp(desk, feed=feed)
    for theme in themes:
        app.register_theme(theme)
    try:
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen)
                        and (app.screen.data is not None or app.screen.refused is not None))
            yield app, pilot
    finally:
        desk.store.close()


def digits(app: WallApp, key: str) -> str:
    return app.screen.query_one(f"#d-{key}", Digits).value


def cells(app: WallApp, table: str, key: str) -> list[str]:
    return [str(c) for c in app.screen.query_one(f"#{table}", DataTable).get_row(key)]


async def type_text(pilot: Pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch)


async def form(app: WallApp, pilot: Pilot, key: str, *answers: str) -> None:
    """Open a supervisor form with `key` and answer its fields, enter after each."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, FormDialog))
    for answer in answers:
        await type_text(pilot, answer)
        await pilot.press("enter")


def orderq(*args: str) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "orderq"
    return subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


async def test_a_new_order_from_another_process_shows_up(kpi_day, clock) -> None:
    path, _ = kpi_day
    async with board(path, "sam", clock, feed=True) as (app, pilot):
        before = int(digits(app, "depth"))
        assert before == 3  # O0, O6, O7
        proc = orderq("--db", str(path), "order", "new", "--user", "alice", "--customer", "C1",
                      "--channel", "phone", "--type", "rush", "--line", "A-1:1")
        # the board changes without a key press, as soon as the other process commits
        await until(pilot, lambda: digits(app, "depth") == str(before + 1), timeout=15)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "P1" in str(app.screen.query_one("#bar-P1", Static).render())


async def test_refused_for_a_rep(kpi_day, clock) -> None:
    path, _ = kpi_day
    async with board(path, "alice", clock) as (app, _pilot):
        screen = app.screen
        assert screen.data is None and screen.refused == "Only supervisors can open the wallboard; alice is a rep."
        assert "Only supervisors" in str(screen.query_one("#title", Static).render())
        assert digits(app, "depth") == "-"


async def test_supervisor_actions_from_the_board(kpi_day, clock) -> None:
    path, n = kpi_day
    bob = Desk.open(path, "bob", clock=clock)
    bob.orders.claim(n["O6"])  # at risk, held by bob
    bob.store.close()
    async with board(path, "sam", clock, size=(160, 50)) as (app, pilot):
        screen = app.screen
        items = screen.query_one("#items", DataTable)
        keys = [r.value for r in items.rows]
        assert keys[0] == n["O0"]  # the oldest breach first
        assert n["O6"] in keys and "with bob" in cells(app, "items", n["O6"])  # who holds it
        assert n["O6"] in str(cells(app, "reps", "bob"))
        # the wide layout shows the returns panel
        assert screen.query_one("#returns").display
        assert "pending approval 1" in str(screen.query_one("#returns-figures", Static).render())

        # override the class of the breached O0, by keyboard only
        await form(app, pilot, "o", "p1", "", "VIP")  # class, due time (blank: follows the class), reason
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        check = Desk.open(path, "sam", clock=clock)
        try:
            got = check.orders.get(n["O0"])
            assert got.priority.value == "P1" and "VIP" in got.priority_source
        finally:
            check.store.close()

        # force-release something nobody holds: refused inside the form, which stays open
        items.move_cursor(row=0)
        await form(app, pilot, "x", "stuck")
        await pilot.pause(0.05)
        assert isinstance(app.screen, FormDialog)
        assert "not claimed" in str(app.screen.query_one("#e-form", Label).render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))

        # force-release bob's claim on O6
        items.move_cursor(row=items.get_row_index(n["O6"]))
        await form(app, pilot, "x", "cover")
        await until(pilot, lambda: "queued" in cells(app, "items", n["O6"]))

        # reassign O6 to alice: the second field (reason) is optional
        items.move_cursor(row=items.get_row_index(n["O6"]))
        await form(app, pilot, "a", "alice", "")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and "with alice" in cells(app, "items", n["O6"]))

        # enter drills into the selected item: the order screen when installed, else a clear notice
        items.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause(0.1)
        try:
            from tui.screens.order import OrderScreen
        except ImportError:
            assert isinstance(app.screen, WallboardScreen)
            assert any("not installed" in str(m.message) for m in app._notifications)
        else:
            await until(pilot, lambda: isinstance(app.screen, OrderScreen))


async def test_small_terminal_layout(kpi_day, clock) -> None:
    path, _ = kpi_day
    async with board(path, "sam", clock, size=(80, 24)) as (app, _pilot):
        screen = app.screen
        assert screen.has_class("-narrow") and screen.has_class("-short")
        assert not screen.query_one("#returns").display
        # the returns figures still show, in the rates block
        assert "returns open 2" in str(screen.query_one("#rates", Static).render())
        for key in ("depth", "breached", "risk", "met", "p50", "p90"):
            region = screen.query_one(f"#d-{key}", Digits).region
            assert region.width > 0 and region.right <= 80 and region.bottom <= 24
        assert screen.query_one("#items", DataTable).region.height >= 3


async def test_reps_online(kpi_day, clock) -> None:
    """The board lists who is online (sessions seen within 3 heartbeats) with the screen they are on.
    (Its theme is the app's choice: tests/tui_queue/test_screens_80x24.py, test_theme_*.)"""
    path, _ = kpi_day
    op = Desk.open(path, None, clock=clock)
    try:
        with op.store.write() as c:
            c.executemany("INSERT INTO sessions (\"user\", pid, screen, started_at, seen_at) VALUES (?, ?, ?, ?, ?)",
                          [("alice", 1, "queue", ts(clock()) - 600, ts(clock()) - 5),
                           ("carol", 2, "returns", ts(clock()) - 6000, ts(clock()) - 3600)])  # carol left an hour ago
    finally:
        op.store.close()
    async with board(path, "sam", clock, size=(120, 40)) as (app, _pilot):
        assert cells(app, "reps", "alice")[:2] == ["alice", "queue"]
        assert "carol" not in [r.value for r in app.screen.query_one("#reps", DataTable).rows]


async def test_a_burst_of_changes_is_throttled_but_never_dropped(kpi_day, clock) -> None:
    """Fifty change batches in a row cost a handful of recomputes, and the last state always shows."""
    path, n = kpi_day
    async with board(path, "sam", clock) as (app, pilot):
        screen = app.screen
        await pilot.pause(0.3)
        start = screen.refreshes
        other = Desk.open(path, "alice", clock=clock)
        try:
            other.orders.claim(n["O7"])  # queue depth 3 -> 2
        finally:
            other.store.close()
        for _ in range(50):
            screen.post_message(StoreChanged([]))
        await until(pilot, lambda: digits(app, "depth") == "2")
        await pilot.pause(0.4)
        assert 1 <= screen.refreshes - start <= 10
