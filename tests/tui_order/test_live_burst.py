"""A burst of changes to the open order from another process (issue 14): the screen shows the last
state, and says who changed it in one notice per burst, not one toast per change piled on the screen."""
from __future__ import annotations

import asyncio
import sys

from textual.widgets import Static

from tests.conftest import REPO
from tests.helpers import until
from tests.tui_order.test_live import live_order
from tests.tui_order.test_order import SIZE

BURST = 9
#: another process: a supervisor re-ranks the order BURST times, one transaction each, back to back
WRITER = """
import sys
from db.service import Desk
sup = Desk.open(sys.argv[1], "sam")
for i in range({n}):
    sup.orders.override(sys.argv[2], reason=f"step {{i}}", priority="P4" if i < {n} - 1 else "P1")
""".format(n=BURST)


async def test_a_burst_of_changes_is_one_notice_and_the_last_state(desk_for, desk_db) -> None:
    app, number = live_order(desk_for, desk_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(desk_db), number, cwd=REPO)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        # the last change is said (with who made it), and drawn
        await until(pilot, lambda: app.said(f"sam overrode its class/due (step {BURST - 1})"), timeout=15)
        await until(pilot, lambda: "P1" in str(screen.query_one("#order-header", Static).render()))
        notices = [m for _, m in app.notes if "sam overrode" in m]
        # at most the first change at once and the rest of the burst together; one toast per change
        # stacked BURST notices on the rep's screen
        assert 1 <= len(notices) <= 2, notices
        assert len(app.screen.query("Toast")) <= 2
