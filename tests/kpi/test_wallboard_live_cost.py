"""What the wallboard does for each change (issue 14: every session gets every change): a change it
shows nothing of (a checklist tick) is not recomputed for, and a breach by the clock alone still
shows at its moment, without a recompute every few seconds."""
from __future__ import annotations

from datetime import timedelta

from db.events import since
from db.service import Desk
from tests.helpers import until
from tests.kpi.test_wallboard import board, digits
from tui.messages import StoreChanged


async def test_checklist_ticks_do_not_recompute_the_board(kpi_day, clock) -> None:
    path, n = kpi_day
    bob = Desk.open(path, "bob", clock=clock)
    try:
        got = bob.orders.claim(n["O6"])
        async with board(path, "sam", clock, feed=False) as (app, pilot):
            screen = app.screen
            start_id = bob.store.conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
            step = bob.orders.get(n["O6"]).checklist[0]
            bob.orders.tick(n["O6"], step, token=got.claim_token)
            bob.orders.untick(n["O6"], step, token=got.claim_token)
            ticks = since(bob.store.conn, start_id)
            assert ticks and {e.action for e in ticks} == {"tick", "untick"}
            start = screen.refreshes
            screen.post_message(StoreChanged(ticks))
            await pilot.pause()
            assert screen.refreshes == start  # nothing it shows changed: no KPI read, no repaint
            assert screen._live is None or screen._live._timer is None  # nor one pending
            bob.orders.unclaim(n["O6"], got.claim_token)  # a change it shows: drawn
            screen.post_message(StoreChanged(since(bob.store.conn, ticks[-1].id)))
            await until(pilot, lambda: screen.refreshes == start + 1)
    finally:
        bob.store.close()


async def test_a_breach_by_the_clock_shows_at_its_moment(kpi_day, clock) -> None:
    """O6 is at risk: the board recomputes when it falls due (here half a minute before the next
    minute, so the minute's recompute would come 30 s late)."""
    path, n = kpi_day
    sam = Desk.open(path, "sam", clock=clock)
    try:
        due = sam.orders.get(n["O6"]).due_at.replace(second=0, microsecond=0) - timedelta(seconds=30)
        sam.orders.override(n["O6"], reason="test: due on the half minute", due_at=due)
    finally:
        sam.store.close()
    async with board(path, "sam", clock, feed=False) as (app, pilot):
        screen = app.screen
        assert n["O6"] in [i.number for i in screen.data.at_risk]
        clock.t = due - timedelta(seconds=1)
        await pilot.press("f5")  # the board as of one second before the breach
        breached = int(digits(app, "breached"))
        clock.t = due + timedelta(seconds=5)  # the store's clock moves on; no change, no key
        await until(pilot, lambda: digits(app, "breached") == str(breached + 1), timeout=15,
                    what="the breach to show by the clock alone")
