"""The order screen ships (`s`) and books stock received (`k`) through the services, with the keyboard:
defaults that make "ship what is ready" one key and Enter, refusals next to the line at fault with nothing
written, and keys offered only to the roles the service lets do it."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from db.service.orders import LineInput
from tests.shipping.conftest import raw, work_and_release
from tests.tui_host import HostApp
from tui.screens.order import OrderScreen
from tui.widgets.form_dialog import FormDialog

SIZE = (130, 42)


def _released(desk, *lines: LineInput) -> str:  # noqa: ANN001
    number = desk.orders.create(customer="C1", channel="phone", type="standard", lines=list(lines)).number
    work_and_release(desk, number)
    return number


async def _keys(pilot, *keys: str) -> None:  # noqa: ANN001
    await pilot.press(*keys)
    await pilot.pause()


@asynccontextmanager
async def _order_screen(desk, number: str, *, feed: bool = False,  # noqa: ANN001
                        size: tuple[int, int] = SIZE) -> AsyncIterator[tuple[HostApp, Pilot]]:
    """The order screen of `number` for `desk`, running and painted: every test's first step."""
    app = HostApp(desk, lambda d: OrderScreen(d, number, None), feed=feed)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, pilot


def _header(app: HostApp) -> str:
    return str(app.screen.query_one("#order-header", Static).render())


def _error(app: HostApp, field: str) -> str:
    return str(app.screen.query_one(f"#e-{field}", Label).render())


async def test_s_then_enter_ships_what_is_in_hand_and_leaves_the_backorder(sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("A-1", 2), LineInput("B-1", 3), LineInput("Z-1", 4))  # Z-1: none in stock
    async with _order_screen(alice, number) as (app, pilot):
        await _keys(pilot, "s")
        assert isinstance(app.screen, FormDialog)
        assert [i.value for i in app.screen.query(Input)] == ["2", "3", "0"]  # what can go now, per line
        await _keys(pilot, "enter")
        assert isinstance(app.screen, OrderScreen)
        assert "backordered" in _header(app) and "waiting for stock: line 3 Z-1 ×4" in _header(app)
    got = alice.orders.get(number)
    assert [ln.qty_shipped for ln in got.lines] == [2, 3, 0] and got.state.value == "backordered"


async def test_shipping_more_than_is_left_is_refused_next_to_the_line_and_nothing_is_written(
        sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("A-1", 2), LineInput("B-1", 3))
    async with _order_screen(alice, number) as (app, pilot):
        await _keys(pilot, "s")
        dialog = app.screen
        box = dialog.query_one("#f-line-2", Input)
        box.value = "5"
        await _keys(pilot, "enter")
        assert app.screen is dialog
        assert "ships 5 but only 3 of 3 are left" in _error(app, "line-2") and _error(app, "line-1") == ""
        box.value = "two"
        await _keys(pilot, "enter")
        assert "'two' is not a whole number" in _error(app, "line-2")
        box.value = "-1"
        await _keys(pilot, "enter")
        assert "0 or more" in _error(app, "line-2")
        dialog.query_one("#f-line-1", Input).value = ""
        box.value = "0"
        await _keys(pilot, "enter")
        assert "nothing to ship" in _error(app, "form")
        await _keys(pilot, "escape")
        assert isinstance(app.screen, OrderScreen)
    got = alice.orders.get(number)
    assert [ln.qty_shipped for ln in got.lines] == [0, 0] and got.state.value == "released"
    assert [e.action for e in alice.orders.history(number)][-1] == "release"


async def test_shipping_part_of_a_line_then_the_rest(sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("A-1", 5))
    async with _order_screen(alice, number) as (app, pilot):
        await _keys(pilot, "s")
        app.screen.query_one("#f-line-1", Input).value = "2"
        await _keys(pilot, "enter")
        assert "backordered" in _header(app) and "3 units in hand, ready to ship" in _header(app)
        await _keys(pilot, "s")
        assert app.screen.query_one("#f-line-1", Input).value == "3"
        await _keys(pilot, "enter")
        assert " shipped " in _header(app)
        await pilot.press("s")  # nothing left: said, no dialog
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen)
    assert alice.orders.get(number).state.value == "shipped"


async def test_an_order_not_released_yet_cannot_be_shipped(sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = alice.orders.create(customer="C1", channel="phone", type="standard", lines=[LineInput("A-1", 1)]).number
    async with _order_screen(alice, number) as (app, pilot):
        await _keys(pilot, "s")
        assert isinstance(app.screen, OrderScreen)
    assert alice.orders.get(number).lines[0].qty_shipped == 0


async def test_k_receives_the_short_sku_and_the_backorder_becomes_ready_to_ship(
        sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice, sam = desk_for(sdb, "alice"), desk_for(sdb, "sam")
    number = _released(alice, LineInput("A-1", 2), LineInput("Z-1", 4))
    alice.orders.ship(number, {1: 2})
    async with _order_screen(sam, number) as (app, pilot):
        await _keys(pilot, "k")
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        assert [i.value for i in dialog.query(Input)] == ["Z-1", "4"]  # the short line, prefilled
        dialog.query_one("#f-qty", Input).value = "lots"
        await _keys(pilot, "enter", "enter")
        assert app.screen is dialog and "not a whole number" in _error(app, "qty")
        dialog.query_one("#f-sku", Input).value = "NOPE-9"
        dialog.query_one("#f-qty", Input).value = "4"
        dialog.query_one("#f-sku", Input).focus()
        await _keys(pilot, "enter", "enter")
        assert app.screen is dialog and "unknown SKU" in _error(app, "sku")
        assert sam.catalog.products()  # (the shelf is untouched: checked below)
        dialog.query_one("#f-sku", Input).value = "Z-1"
        dialog.query_one("#f-sku", Input).focus()
        await _keys(pilot, "enter", "enter")
        assert isinstance(app.screen, OrderScreen)
        assert "READY TO SHIP 4 units in hand" in _header(app)
    z = alice.orders.get(number).lines[1]
    assert (z.qty_allocated, z.qty_shipped) == (4, 0)
    received = [e for e in sam.orders.history(number) if e.action == "stock_allocated"]
    assert len(received) == 1  # the refused tries booked nothing


async def test_receive_is_offered_only_to_who_may_book_stock(sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("Z-1", 1))
    async with _order_screen(alice, number) as (app, pilot):
        screen = app.screen
        assert not screen.may("receive_stock") and screen.may("ship")
        await _keys(pilot, "k")
        assert app.screen is screen
    assert alice.orders.get(number).lines[0].qty_allocated == 0


async def test_k_on_a_stock_hold_prefills_what_the_shelf_lacks_and_the_freed_order_queues_live(
        sdb: Path, desk_for) -> None:  # noqa: ANN001
    alice, sam = desk_for(sdb, "alice"), desk_for(sdb, "sam")
    number = alice.orders.create(customer="C1", channel="phone", type="standard",
                                 lines=[LineInput("A-1", 2), LineInput("Z-1", 3)]).number
    assert alice.orders.get(number).hold_reason is not None  # Z-1: none on the shelf
    async with _order_screen(sam, number, feed=True) as (app, pilot):
        assert "ON HOLD" in _header(app)
        await _keys(pilot, "k")
        assert [i.value for i in app.screen.query(Input)] == ["Z-1", "3"]
        await _keys(pilot, "enter", "enter")
        assert isinstance(app.screen, OrderScreen)
        assert "ON HOLD" not in _header(app) and "queued" in _header(app)
    assert alice.orders.get(number).state.value == "queued"


async def test_after_release_the_footer_leads_with_ship(sdb: Path, desk_for) -> None:  # noqa: ANN001
    from tui.widgets.footer import KeyFooter

    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("A-1", 1))
    async with _order_screen(alice, number, size=(80, 30)) as (app, pilot):
        assert app.screen.query_one(KeyFooter).shown[0] == ("s", "Ship")


async def test_the_ship_form_shows_a_description_as_text(sdb: Path, desk_for) -> None:  # noqa: ANN001
    hostile = "Mug [b]x[/ [@click=app.quit]"
    with raw(sdb) as c:
        c.execute("INSERT INTO products (sku, description, price_e4, stock) VALUES ('H-1', ?, 100000, 0)", (hostile,))
    desk_for(sdb, "sam").stock.receive("H-1", 5)
    alice = desk_for(sdb, "alice")
    number = _released(alice, LineInput("H-1", 2))
    async with _order_screen(alice, number) as (app, pilot):
        await _keys(pilot, "s")
        shown = " ".join(str(lbl.render()) for lbl in app.screen.query(Label))
        assert hostile in shown
        await _keys(pilot, "enter")
        assert isinstance(app.screen, OrderScreen) and app.is_running
    assert alice.orders.get(number).state.value == "shipped"
