"""The order screen shows what shipped per line and what is on backorder; the queue names the state."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from db.service.orders import LineInput
from tests.shipping.conftest import work_and_release
from tests.tui_host import HostApp
from tui.screens.order import OrderScreen
from tui.screens.queue import STATE_TEXT

SIZE = (130, 42)


async def test_order_screen_shows_shipped_per_line_and_the_backorder(sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = alice.orders.create(customer="C1", channel="phone", type="standard",
                                 lines=[LineInput("A-1", 2), LineInput("B-1", 3), LineInput("Z-1", 4)]).number
    work_and_release(alice, number)
    alice.orders.ship(number, {1: 2, 2: 1})
    app = HostApp(alice, lambda d: OrderScreen(d, number, None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = str(app.screen.query_one("#order-header", Static).render())
        assert "backordered" in header
        assert "BACKORDER waiting for stock: line 3 Z-1 ×4 · 2 units in hand, ready to ship" in header
        table = app.screen.query_one("#order-lines", DataTable)
        assert [str(table.get_row_at(i)[-1]) for i in range(3)] == ["2", "1", "0"]
    assert STATE_TEXT["backordered"] == "backordered"
