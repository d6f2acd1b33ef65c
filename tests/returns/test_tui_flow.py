"""Pilot tests of the returns screens: the full flow, separation of duties, bulk actions."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from db.service import Desk
from db.service.returns import ReturnLineInput
from db.store import Store
from tests.returns.conftest import shipped_line
from tests.returns.host import HostApp
from tui.screens.return_entry import ReturnEntryScreen
from tui.screens.return_process import ReturnProcessScreen
from tui.screens.returns import BulkReport, ReturnsScreen


def _desk(path: Path, user: str) -> Desk:
    return Desk.for_user(Store.open(path), user)


async def test_full_flow_keyboard_only(rdb: Path) -> None:
    ln = shipped_line(rdb, min_left=2)
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ReturnEntryScreen)
        await pilot.press(*ln["number"], "enter")
        await pilot.pause()
        entry = app.screen
        assert entry.lines and entry.lines[0]["order"] == ln["number"]
        k = next(i for i, x in enumerate(entry.lines) if x["sku"] == ln["sku"])
        for _ in range(2 * len(entry.lines)):
            if app.focused is not None and app.focused.id == f"qty-{k}":
                break
            await pilot.press("tab", "tab")
        assert app.focused.id == f"qty-{k}"
        await pilot.press("2", "tab", *"damaged")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ReturnProcessScreen), entry.query_one("#entry-error").render()
        proc = app.screen
        number = proc.number
        assert proc.data["state"] == "requested"
        await pilot.press("t")
        await pilot.pause()
        assert proc.data["state"] == "authorized"
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("1", "enter")  # a short receipt: 1 of 2
        await pilot.pause()
        assert proc.data["state"] == "received"
        assert "SHORT 1" in str(proc.query_one(DataTable).get_row_at(0)[6])
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("enter")  # like_new / restock defaults
        await pilot.pause()
        assert proc.data["state"] == "inspected"
        await pilot.press("s")
        await pilot.pause()
        body = str(app.screen.query_one("#confirm-body").render())
        assert "no restocking fee (our fault)" in body and "refund =" in body
        await pilot.press("enter")
        await pilot.pause()
        assert proc.data["state"] == "resolved"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReturnsScreen)
    d = desk.returns.detail(number)
    assert d["state"] == "resolved" and d["lines"][0]["qty_received"] == 1
