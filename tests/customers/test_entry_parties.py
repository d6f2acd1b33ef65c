"""The entry form's ship-to for this order only (`+`), and bill-to and contact picked like ship-to (a typed
number or F4); refusals next to the field, nothing written (Pilot)."""
from __future__ import annotations


from textual.widgets import Input, Label

from db.store import Store
from db.service import Desk
from tests.customers.conftest import add_addresses, entry_screen, keys, order_count
from tests.tui_host import press
from tui.screens.entry import EntryScreen
from tui.widgets.entry_result import EntryResult
from tui.widgets.form_dialog import FormDialog
from tui.widgets.prompt_list import PromptList
from tests.conftest import connect_db

LINE = ["BEV-0001", "enter", "1", "enter"]


def _addresses(db) -> int:  # noqa: ANN001
    return connect_db(db).execute("SELECT COUNT(*) FROM customer_addresses").fetchone()[0]


def _second_bill_and_contact(db) -> None:  # noqa: ANN001
    store = Store.open(db)
    try:
        op = Desk.operator(store)
        op.customers.add_address("C00006", "bill_to", {"name": "Head office", "street": ["5 Elm St"],
                                                       "city": "Hartford", "country": "USA"})
        op.customers.add_contact("C00006", {"name": "Lee Park", "phone": "+1 555 0199"})
    finally:
        store.close()


def _text(screen, wid: str) -> str:  # noqa: ANN001
    return str(screen.query_one(f"#{wid}", Label).render())


async def test_a_ship_to_for_this_order_only_is_on_the_order_not_in_the_address_book(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    before = _addresses(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter", "+", "enter")
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        await press(pilot, "Fair stand 12", "enter", "Messe Allee 1", "enter", "enter", "enter")  # no city
        await keys(pilot, "enter", "enter", "Germany", "enter")
        assert app.screen is dialog and "city" in _text(dialog, "e-city").lower()
        assert dialog.focused.id == "f-city"
        await keys(pilot, "Leipzig", "enter", "enter", "enter", "enter")  # on through region, postcode, country
        assert app.screen is screen
        assert "this order only: Fair stand 12, Messe Allee 1, Leipzig, Germany" in _text(screen, "hdr-ship-info")
        await keys(pilot, "enter", "PO-FAIR", "enter", *LINE, "enter", "enter")
        assert isinstance(app.screen, EntryResult), app.screen
        o = app.screen.order
    assert o.ship_to["city"] == "Leipzig" and o.ship_to["street"] == ["Messe Allee 1"]
    assert _addresses(demo_db) == before  # the customer's address book is as it was


async def test_f4_on_ship_to_offers_a_new_address_last(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        await keys(pilot, "6", "enter", "f4")
        assert isinstance(app.screen, PromptList)
        assert [v for v, _ in app.screen.items] == ["1", "2", "+"]
        await keys(pilot, "down", "down", "enter")
        assert isinstance(app.screen, FormDialog)
        await keys(pilot, "escape")  # no address typed: the field keeps what it had
        assert isinstance(app.screen, EntryScreen) and app.screen.focused.id == "hdr-ship-to"


async def test_bill_to_and_contact_are_picked_like_ship_to(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    _second_bill_and_contact(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter")
        assert "Accounts, PO Box 12" in _text(screen, "hdr-bill-to-info")  # the default, before any pick
        assert "Pat Green" in _text(screen, "hdr-contact-info")
        await keys(pilot, "tab", "2")  # bill-to: the second, by number
        assert screen.focused.id == "hdr-bill-to" and "2 of 2: Head office" in _text(screen, "hdr-bill-to-info")
        await keys(pilot, "tab", "f4")
        assert isinstance(app.screen, PromptList) and len(app.screen.items) == 2
        await keys(pilot, "down", "enter")
        assert "2 of 2: Lee Park" in _text(screen, "hdr-contact-info")
        await keys(pilot, "enter", "enter", *LINE, "enter", "enter")
        assert isinstance(app.screen, EntryResult), app.screen
        o = app.screen.order
    assert o.bill_to["name"] == "Head office" and o.contact["name"] == "Lee Park"


async def test_a_bill_to_or_contact_number_not_on_file_is_refused_next_to_it(demo_db, desk_for) -> None:
    add_addresses(demo_db)
    before = order_count(demo_db)
    async with entry_screen(desk_for(demo_db, "alice")) as (app, pilot):
        screen = app.screen
        await keys(pilot, "6", "enter", "tab", "tab", "5")
        assert "contact '5': pick 1 … 1" in _text(screen, "hdr-party-error")
        await press(pilot, "enter", "enter", *LINE, "enter")
        await keys(pilot, "ctrl+s")
        assert app.screen is screen and screen.focused is screen.query_one("#hdr-contact", Input)
        await keys(pilot, "backspace")
        assert _text(screen, "hdr-party-error") == ""
    assert order_count(demo_db) == before
