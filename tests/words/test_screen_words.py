"""What the screens offer and say, in a Pilot: keys a role may not use are not offered, a released
order says it is released, and a paused order's countdown reads the same in its row and its why panel.

Before: a rep's footer offered `w Wallboard` and a returns clerk's offered `c Claim next`, both then
refused; the release line said "an order that is released cannot be released (only from: in_progress)";
the row said "paused -16h 37m" while the why panel said "overdue 16h 37m".
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from db.service import Desk
from db.service.orders import LineInput
from tests.tui_host import HostApp
from tests.tui_queue.conftest import visible_rows, wait_until
from tui.screens.order import OrderScreen
from tui.screens.queue import QueueScreen
from tui.screens.returns import ReturnsScreen

SIZE = (140, 40)


def offered(app: HostApp) -> set[str]:
    """What the footer shows: the screen's active bindings that are shown."""
    return {a.binding.description for a in app.screen.active_bindings.values() if a.binding.show}


def text_of(app: HostApp, selector: str) -> str:
    """The widget as drawn, its wrapped lines joined back into one run of words."""
    w = app.screen.query_one(selector)
    return " ".join(" ".join(strip.text for strip in w.render_lines(w.region.reset_offset)).split())


def host(desk: Desk, make=None):  # noqa: ANN001, ANN201
    """The real app for the queue (it needs the app's themes), the test host for other screens."""
    if make is None:
        from tui.app import OrderqApp

        return OrderqApp(desk, feed=False, keymap={}, session=False)
    return HostApp(desk, make)


def notes(app) -> list[str]:  # noqa: ANN001
    return [n.message for n in app._notifications]


async def test_each_role_is_offered_only_what_it_may_do(word_db: Path, desk) -> None:  # noqa: ANN001
    number = desk("alice").store.conn.execute("SELECT number FROM orders WHERE state = 'queued' LIMIT 1").fetchone()[0]
    cases = [
        ("alice", None, {"Claim next", "New order", "Returns"}, {"Wallboard"}),
        ("carol", None, {"Returns", "Open"}, {"Claim next", "New order", "Give back", "Wallboard"}),
        ("sam", None, {"Claim next", "Wallboard"}, set()),
        ("carol", lambda d: OrderScreen(d, number), {"History"}, {"Claim", "Hold", "Release", "Cancel", "Lines"}),
        ("alice", lambda d: OrderScreen(d, number), {"Claim", "Hold", "Release"}, set()),
        ("carol", lambda d: ReturnsScreen(d), {"Claim next", "New return"}, {"Approve", "Approvals"}),
        ("alice", lambda d: ReturnsScreen(d), {"Mine", "Back"}, {"Claim next", "New return", "Approve", "Resolve"}),
        ("sam", lambda d: ReturnsScreen(d), {"Approve", "Approvals", "Claim next"}, set()),
    ]
    for user, make, shown, hidden in cases:
        app = host(desk(user), make)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: type(app.screen).__name__ != "Home")
            await pilot.pause()
            got = offered(app)
            assert shown <= got and not (hidden & got), (user, type(app.screen).__name__, got)


async def test_a_hidden_key_does_nothing(word_db: Path, desk) -> None:  # noqa: ANN001
    carol = desk("carol")
    app = host(carol)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen) and not notes(app)
    assert carol.store.conn.execute("SELECT COUNT(*) FROM orders WHERE claimed_by = 'carol'").fetchone()[0] == 0


async def test_a_released_order_says_it_is_released(word_db: Path, desk) -> None:  # noqa: ANN001
    alice = desk("alice")
    got = alice.orders.claim_next()
    o = alice.orders.get(got.number)
    for step in o.checklist:
        alice.orders.tick(o.number, step, token=got.claim_token)
    alice.orders.release(o.number, token=got.claim_token)
    app = HostApp(alice, lambda d: OrderScreen(d, o.number))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        line = text_of(app, "#order-release")
        assert "this order is already released" in line and "_" not in line
        header = text_of(app, "#order-header")
        assert "released" in header and "RELEASED" not in header


async def test_a_paused_order_reads_the_same_in_its_row_and_its_why_panel(word_db: Path, desk, clock) -> None:  # noqa: ANN001
    alice = desk("alice")
    o = alice.orders.create(customer="C00003", channel="walk_in", type="standard", lines=[LineInput("BEV-0001", "1")])
    alice.orders.hold(o.number, "customer_info", "waiting on a PO")
    # put on hold 15h 37m after it fell due, and held for an hour since: overdue 15h 37m, clock stopped
    clock.t = o.due_at + timedelta(hours=16, minutes=37)
    with alice.store.write() as c:
        c.execute("UPDATE orders SET hold_started_at = ? WHERE number = ?", (clock.t.timestamp() - 3600, o.number))
    app = host(alice)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.view.select_id(o.id)
        await pilot.pause()
        row = next(r for r in visible_rows(app) if o.number in r)
        why = text_of(app, "#why")
        assert "paused 15h over" in row and "SLA paused 15h over" in why, (row, why)
        assert "walk-in" in why and "walk_in" not in why and "-15h" not in row
