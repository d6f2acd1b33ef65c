"""The wallboard in a Pilot: live from another process, refused to non-supervisors, actions by keyboard."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Digits, Input, Label, Static

from db.service import Desk
from tests.conftest import REPO
from tests.kpi.wallapp import WallApp
from tui.screens.wallboard import FormModal, WallboardScreen


async def until(pilot, cond, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await pilot.pause(0.02)


def digits(app, key: str) -> str:  # noqa: ANN001
    return app.screen.query_one(f"#d-{key}", Digits).value


def orderq(*args: str) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "orderq"
    return subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


async def test_a_new_order_from_another_process_shows_up(kpi_day, clock) -> None:
    path, _ = kpi_day
    desk = Desk.open(path, "sam", clock=clock)
    app = WallApp(desk)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
            before = int(digits(app, "depth"))
            assert before == 3  # O0, O6, O7
            proc = orderq("--db", str(path), "order", "new", "--user", "alice", "--customer", "C1",
                          "--channel", "phone", "--type", "rush", "--line", "A-1:1")
            # the board changes without a key press, as soon as the other process commits
            await until(pilot, lambda: digits(app, "depth") == str(before + 1), timeout=15)
            out, err = proc.communicate(timeout=15)
            assert proc.returncode == 0, err
            assert "P1" in str(app.screen.query_one("#bar-P1", Static).render())
    finally:
        desk.store.close()


async def test_refused_for_a_rep(kpi_day, clock) -> None:
    path, _ = kpi_day
    desk = Desk.open(path, "alice", clock=clock)
    app = WallApp(desk, feed=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            screen = app.screen
            assert isinstance(screen, WallboardScreen)
            assert screen.data is None and screen.refused and "may not wallboard view" in screen.refused
            assert "may not" in str(screen.query_one("#title", Static).render())
            assert digits(app, "depth") == "-"
    finally:
        desk.store.close()


async def test_override_and_force_release_from_the_board(kpi_day, clock) -> None:
    path, n = kpi_day
    bob = Desk.open(path, "bob", clock=clock)
    bob.orders.claim(n["O6"])  # at risk, held by bob
    bob.store.close()
    desk = Desk.open(path, "sam", clock=clock)
    app = WallApp(desk, feed=False)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
            screen = app.screen
            items = screen.query_one("#items", DataTable)
            keys = [r.value for r in items.rows]
            assert keys[0] == n["O0"]  # the oldest breach first
            assert n["O6"] in keys
            row = items.get_row(n["O6"])
            assert "bob" in [str(c) for c in row]  # who holds it
            reps = screen.query_one("#reps", DataTable)
            assert n["O6"] in str(reps.get_row("bob"))
            # the wide layout shows the returns panel
            assert screen.query_one("#returns").display
            assert "pending approval 1" in str(screen.query_one("#returns-figures", Static).render())

            # override the class of the breached O0, by keyboard only
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, FormModal))
            await pilot.press("p", "1", "enter")
            for ch in "VIP":
                await pilot.press(ch)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
            check = Desk.open(path, "sam", clock=clock)
            try:
                got = check.orders.get(n["O0"])
                assert got.priority.value == "P1" and "VIP" in got.priority_source
            finally:
                check.store.close()

            # force-release something nobody holds: refused inside the form, which stays open
            items.move_cursor(row=0)
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, FormModal))
            for ch in "stuck":
                await pilot.press(ch)
            await pilot.press("enter")
            await pilot.pause(0.05)
            assert isinstance(app.screen, FormModal)
            assert "not claimed" in str(app.screen.query_one("#e-form", Label).render())
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen))

            # force-release bob's claim on O6
            items.move_cursor(row=items.get_row_index(n["O6"]))
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, FormModal))
            for ch in "cover":
                await pilot.press(ch)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
            await until(pilot, lambda: "—" in [str(c) for c in screen.query_one("#items", DataTable).get_row(n["O6"])])

            # reassign O6 to alice: the second field (reason) is optional
            items.move_cursor(row=items.get_row_index(n["O6"]))
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, FormModal))
            for ch in "alice":
                await pilot.press(ch)
            await pilot.press("enter", "enter")
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
            await until(pilot, lambda: "alice" in [str(c) for c in screen.query_one("#items", DataTable).get_row(n["O6"])])

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
    finally:
        desk.store.close()


async def test_small_terminal_layout(kpi_day, clock) -> None:
    path, _ = kpi_day
    desk = Desk.open(path, "sam", clock=clock)
    app = WallApp(desk, feed=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
            screen = app.screen
            assert screen.has_class("-narrow") and screen.has_class("-short")
            assert not screen.query_one("#returns").display
            # the returns figures still show, in the rates block
            assert "returns open 2" in str(screen.query_one("#rates", Static).render())
            for key in ("depth", "breached", "risk", "met", "p50", "p90"):
                region = screen.query_one(f"#d-{key}", Digits).region
                assert region.width > 0 and region.right <= 80 and region.bottom <= 24
            assert screen.query_one("#items", DataTable).region.height >= 3
    finally:
        desk.store.close()


async def test_high_contrast_theme_and_reps_online(kpi_day, clock) -> None:
    """The board asks for the wallboard-hc theme when the app has it, gives the old one back on leave,
    and lists who is online (sessions seen in the last 2 minutes) with the screen they are on."""
    from textual.theme import Theme

    from db.convert import ts

    path, n = kpi_day
    desk = Desk.open(path, "sam", clock=clock)
    with desk.store.write() as c:
        c.execute("INSERT INTO sessions (user, pid, screen, started_at, seen_at) VALUES ('alice', 1, 'queue', ?, ?)",
                  (ts(clock()) - 600, ts(clock()) - 5))
        c.execute("INSERT INTO sessions (user, pid, screen, started_at, seen_at) VALUES ('carol', 2, 'returns', ?, ?)",
                  (ts(clock()) - 6000, ts(clock()) - 3600))  # gone an hour ago
    app = WallApp(desk, feed=False)
    app.register_theme(Theme(name="wallboard-hc", primary="#ffff00", background="#000000", dark=True))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
            assert app.theme == "wallboard-hc"
            reps = app.screen.query_one("#reps", DataTable)
            assert [str(c) for c in reps.get_row("alice")][:2] == ["alice", "queue"]
            assert "carol" not in [r.value for r in reps.rows]
            before = app.screen
            await pilot.press("escape")  # leave the board: the app's own theme comes back
            await until(pilot, lambda: app.screen is not before)
            await until(pilot, lambda: app.theme != "wallboard-hc")
    finally:
        desk.store.close()


async def test_a_burst_of_changes_is_throttled_but_never_dropped(kpi_day, clock) -> None:
    """Fifty change batches in a row cost a handful of recomputes, and the last state always shows."""
    from tui.messages import StoreChanged

    path, n = kpi_day
    desk = Desk.open(path, "sam", clock=clock)
    app = WallApp(desk, feed=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
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
    finally:
        desk.store.close()
