"""What a returns clerk reads and what one key does: names and labels in the list, money with
separators, dates as dates, inspection that follows the reason, a history, a quiet selection."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable, Input, Label, Static

from core.enums import ReturnReason, Tier
from core.money import fmt
from core.returns import classify_return
from db.service import Desk
from db.service.returns import ReturnLineInput
from db.store import Store
from tests.returns.conftest import shipped_line
from tests.tui_host import HostApp, press
from tui.screens.return_entry import ReturnEntryScreen
from tui.screens.return_process import ReturnProcessScreen
from tui.widgets.return_dialogs import LinesForm
from tui.screens.returns import ReturnsScreen
from tui.widgets.prompt_list import PromptList

SIZE = (140, 45)


def _desk(path: Path, user: str) -> Desk:
    return Desk.for_user(Store.open(path), user)


def _received(desk: Desk, path: Path, reason: str, *, min_amount_cents: int = 0, exclude: tuple = ()) -> tuple[str, dict]:
    ln = shipped_line(path, min_left=1, min_amount_cents=min_amount_cents, exclude=exclude)
    number = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason=reason)], resolution="refund",
                              orders=[ln["number"]], note="x" if reason == "other" else None)["number"]
    desk.returns.authorize(number)
    desk.returns.receive(number)
    return number, ln


async def test_the_list_reads_as_words_and_money(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    ln = shipped_line(rdb, min_left=1, min_amount_cents=150_000)  # a refund over 1,000.00
    big = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=ln["qty"] - ln["qty_returned"],
                                                  reason="not_as_described")],
                           resolution="refund", orders=[ln["number"]])["number"]
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        scr = app.screen
        table = scr.query_one(DataTable)
        for r in scr.rows:
            cells = dict(zip([str(c.key.value) for c in table.ordered_columns],
                             [str(x) for x in table.get_row(r["number"])], strict=True))
            assert r["customer_name"] in cells["customer"] and r["customer"] in cells["customer"]
            assert "_" not in cells["reasons"], cells["reasons"]
            assert cells["refund"] == fmt(Decimal(r["refund_amount"]))
        row = next(r for r in scr.rows if r["number"] == big)
        assert "," in str(table.get_row(big)[[str(c.key.value) for c in table.ordered_columns].index("refund")])
        assert "not as described" in str(table.get_row(big))
        # the why panel gives the policy's own reason for the class
        table.move_cursor(row=scr.rows.index(row))
        await pilot.pause()
        why = str(scr.query_one("#returns-why", Static).render())
        source = classify_return([ReturnReason(x) for x in row["reasons"]], Tier(row["tier"]), desk.ctx.rules).source
        assert source in why, why


async def test_space_selects_without_reading_the_list_again(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        scr = app.screen
        reads = []
        real = desk.returns.list
        desk.returns.list = lambda *a, **k: reads.append(1) or real(*a, **k)  # type: ignore[method-assign]
        first = scr.rows[0]["number"]
        await pilot.press("space")
        await pilot.pause()
        assert scr.selected == {first}
        assert reads == []
        assert str(scr.query_one(DataTable).get_row(first)[0]) == "●"
        assert "1 selected" in str(scr.query_one("#returns-title", Label).render())


async def test_f4_lists_shipped_orders_with_dates_and_the_pick_stays_in_the_field(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnEntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptList)
        labels = [label for _v, label in prompt.query_one("PromptRows").items]
        assert labels and all(" UTC · " in x and "T" not in x.split("shipped ")[1][:16] for x in labels), labels[:3]
        number = prompt.query_one("PromptRows").items[0][0]
        await pilot.press("escape")
        await pilot.pause()
        entry = app.screen
        await press(pilot, number, "enter")
        await pilot.pause()
        assert entry.lines
        assert entry.query_one("#order", Input).value == number  # not back to its placeholder
        assert number in str(entry.query_one("#order-added", Label).render())


async def test_inspection_follows_the_reason(rdb: Path) -> None:
    """A damaged return used to propose like_new / restock: one Enter put damaged goods back in stock."""
    desk = _desk(rdb, "carol")
    damaged, ln = _received(desk, rdb, "damaged")
    unclear, _ = _received(desk, rdb, "not_as_described", exclude=(ln["number"],))
    stock_before = desk.store.conn.execute("SELECT stock FROM products WHERE sku = ?", (ln["sku"],)).fetchone()[0]
    app = HostApp(desk, lambda d: ReturnProcessScreen(d, damaged))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, LinesForm)
        await pilot.press("enter")
        await pilot.pause()
    line = desk.returns.detail(damaged)["lines"][0]
    assert (line["grade"], line["disposition"]) == ("damaged", "scrap")
    assert desk.store.conn.execute("SELECT stock FROM products WHERE sku = ?", (ln["sku"],)).fetchone()[0] == stock_before
    app = HostApp(desk, lambda d: ReturnProcessScreen(d, unclear))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        form = app.screen
        await pilot.press("enter")  # nothing proposed for "not as described": the clerk must choose
        await pilot.pause()
        assert app.screen is form
        assert "choose a grade" in str(form.query_one("#form-error", Label).render())
    assert desk.returns.detail(unclear)["state"] == "received"


async def test_the_return_screen_shows_its_history(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    number, _ = _received(desk, rdb, "defective")
    app = HostApp(desk, lambda d: ReturnProcessScreen(d, number))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hist = app.screen.query_one("#return-history", DataTable)
        assert not hist.display
        await pilot.press("h")
        await pilot.pause()
        assert hist.display
        whats = [str(hist.get_row_at(i)[2]) for i in range(hist.row_count)]
        assert whats[:3] == ["asked for the return", "authorized it", "received it"], whats
