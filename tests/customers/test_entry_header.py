"""The entry form's header (Pilot): F4 ship-to, a typed address number, PO, errors next to the field,
the duplicate-PO question, and the customer's latest orders and balance shown while typing."""
from __future__ import annotations

from textual.widgets import Input, Label, Static

from tests.customers.conftest import SHIP_2, add_addresses, entry_screen, keys, order_count
from tests.tui_host import grouped, press
from tui.widgets.entry_result import EntryResult
from tui.widgets.note_dialog import Confirm
from tui.widgets.prompt_list import PromptList

async def test_f4_picks_the_second_ship_to_and_po_is_kept(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    typed = ["6", "enter", "f4", "down", "enter", "enter", *"PO-1", "enter", *"BEV-0001", "enter", "1", "enter",
            "enter", "enter"]
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter")
        assert screen.focused.id == "hdr-ship-to"
        history = str(screen.query_one("#hdr-history", Static).render())
        assert "balance" in history and "credit" in history and "available" in history
        await keys(pilot, "f4")
        assert isinstance(app.screen, PromptList)
        await keys(pilot, *grouped(typed[3:]))
        assert isinstance(app.screen, EntryResult), app.screen
        o = app.screen.order
        shown = " ".join(str(w.render()) for w in app.screen.query(Label))
    assert o.ship_to["city"] == SHIP_2["city"] and o.ship_to["street"] == SHIP_2["street"] and o.po_number == "PO-1"
    assert "Dock 9" in shown and "PO PO-1" in shown
    print(f"\norder with a chosen ship-to (F4) and a PO, one line: {len(typed)} keys")


async def test_typed_number_picks_an_address_without_the_list(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter", "2")
        assert "Dock 9" in str(screen.query_one("#hdr-ship-info", Label).render())
        await keys(pilot, "enter", "enter", "BEV-0001", "enter", "1", "enter", "enter", "enter")
        assert isinstance(app.screen, EntryResult)
        assert app.screen.order.ship_to["name"] == "Dock 9"


async def test_bad_header_fields_show_next_to_the_field_nothing_written(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    before = order_count(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter", "7")  # there is no 7th address
        assert "pick 1 … 2" in str(screen.query_one("#hdr-ship-error", Label).render())
        await press(pilot, "backspace", "enter", "enter", "BEV-0001", "enter", "1", "enter")
        date = screen.query_one("#hdr-date", Input)
        date.value = "2020-01-01"  # before the desk's clock (2026-11-26)
        await keys(pilot, "ctrl+s")
        err = str(screen.query_one("#hdr-details-error", Label).render())
        assert "in the past" in err and screen.focused is date and date.has_class("-invalid")
        date.value = ""
        screen.query_one("#hdr-po", Input).value = "P" * 36
        await keys(pilot, "ctrl+s")
        assert "at most 35" in str(screen.query_one("#hdr-details-error", Label).render())
        assert screen.focused.id == "hdr-po"
        screen.query_one("#hdr-po", Input).value = ""
        screen.query_one("#hdr-method", Input).value = "rocket"
        await keys(pilot, "ctrl+s")
        assert "unknown shipping method" in str(screen.query_one("#hdr-details-error", Label).render())
        assert app.screen is screen
    assert order_count(demo_db) == before


async def test_duplicate_po_asks_the_rep(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    desk = desk_for(demo_db, "alice")
    order = ["6", "enter", "enter", "PO-9", "enter", "BEV-0001", "enter", "1", "enter", "enter", "enter"]
    async with entry_screen(desk) as (app, pilot):
        await keys(pilot, *order)
        first = app.screen.order
        await keys(pilot, "enter")  # next order
        before = order_count(demo_db)
        await keys(pilot, *order)
        assert isinstance(app.screen, Confirm)
        assert order_count(demo_db) == before
        await keys(pilot, "escape")  # correct the PO instead
        assert first.number in str(app.screen.query_one("#hdr-details-error", Label).render())
        assert app.screen.focused.id == "hdr-po"
        await keys(pilot, "ctrl+s")
        await keys(pilot, "enter")  # yes: a new order with the same PO
        assert isinstance(app.screen, EntryResult) and app.screen.order.po_number == "PO-9"
    assert order_count(demo_db) == before + 1


async def test_customer_picker_shows_city_and_country(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        await keys(pilot, "f4")
        assert isinstance(app.screen, PromptList)
        label = dict(app.screen.items)["C00006"]
        assert "Boston, USA" in label
