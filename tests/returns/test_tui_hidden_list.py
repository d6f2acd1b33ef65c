"""The returns list under the return being worked (issue 14: every session gets every change): while
hidden it reads nothing, however many returns other processes change; shown again, it shows them."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import DataTable

from db.service import Desk
from db.store import Store
from tests.conftest import REPO
from tests.helpers import until
from tests.returns.conftest import shipped_line
from tests.tui_host import HostApp, Home
from tui.screens.returns import ReturnsScreen

SIZE = (140, 45)
#: another process: a returns clerk authorizes the return named in argv[2]
AUTHORIZE = """
import sys
from db.service import Desk
Desk.open(sys.argv[1], "carol").returns.authorize(sys.argv[2])
"""


async def test_hidden_returns_list_reads_once_when_shown_again(rdb: Path) -> None:
    from db.service.returns import ReturnLineInput

    desk = Desk.for_user(Store.open(rdb), "carol")
    ln = shipped_line(rdb, min_left=1)
    number = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="damaged")], resolution="refund",
                              orders=[ln["number"]])["number"]
    app = HostApp(desk, ReturnsScreen, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        returns = app.screen
        assert isinstance(returns, ReturnsScreen)
        reads = 0
        read = returns.reload

        def counted() -> None:
            nonlocal reads
            reads += 1
            read()

        returns.reload = counted  # type: ignore[method-assign]
        app.push_screen(Home())  # another screen on top, as the return being worked
        await until(pilot, lambda: isinstance(app.screen, Home))
        batches = app.batches
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", AUTHORIZE, str(rdb), number, cwd=REPO)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        await until(pilot, lambda: app.batches > batches, timeout=15, what="the change to reach the session")
        await pilot.pause()
        assert reads == 0  # hidden: it used to read the list again for every change to a return
        app.pop_screen()
        await until(pilot, lambda: reads == 1)
        cells = [str(c) for c in returns.query_one(DataTable).get_row(number)]
        assert "authorized" in cells, cells
        await pilot.pause()
        assert reads == 1  # once, not once for the resume and again for the changes missed
    desk.store.close()
