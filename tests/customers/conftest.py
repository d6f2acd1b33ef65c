"""A demo database whose customer C00006 has two ship-to addresses, a bill-to and a contact, all known."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from db.service import Desk
from db.store import Store
from tests.conftest import connect_db

SHIP_1 = {"name": "Main warehouse", "street": ["1 Main St"], "city": "Boston", "country": "USA"}
SHIP_2 = {"name": "Dock 9", "street": ["9 Dock Rd", "Gate B"], "city": "Newark", "region": "NJ",
          "postcode": "07101", "country": "USA"}
BILL = {"name": "Accounts", "street": ["PO Box 12"], "city": "Boston", "country": "USA"}


def _whole(address: dict) -> dict:
    """An edit that replaces every part (an empty part clears what the demo had there)."""
    return {"region": "", "postcode": "", **address}


def add_addresses(db: Path) -> dict[str, int]:
    """Through the service, as an operator at the shell would (`orderq customers address add/edit`): the
    demo's head office of C00006 becomes SHIP_1 and its bill-to BILL, its buyer Pat Green, and SHIP_2 its
    second ship-to (the demo's second site, when it has one, rewritten), so these tests know the whole book."""
    store = Store.open(db)
    try:
        desk = Desk.operator(store)
        book = desk.customers.show("C00006")
        ships = [a["id"] for a in book["addresses"] if a["kind"] == "ship_to"]  # the default first
        bill = next(a["id"] for a in book["addresses"] if a["kind"] == "bill_to" and a["default"])
        assert len(ships) <= 2 and len(book["contacts"]) == 1, book
        ship_1 = desk.customers.edit_address(ships[0], _whole(SHIP_1), default=True)["id"]
        ship_2 = (desk.customers.edit_address(ships[1], _whole(SHIP_2))["id"] if len(ships) > 1
                  else desk.customers.add_address("C00006", "ship_to", SHIP_2)["id"])
        ids = {"ship_1": ship_1, "ship_2": ship_2, "bill": desk.customers.edit_address(bill, _whole(BILL))["id"],
               "contact": desk.customers.edit_contact(book["contacts"][0]["id"], {
                   "name": "Pat Green", "email": "pat@green.example", "phone": "+1 555 0100"})["id"]}
    finally:
        store.close()
    return ids


@pytest.fixture
def addr_db(demo_db: Path) -> tuple[Path, dict[str, int]]:
    return demo_db, add_addresses(demo_db)


#: the entry form's tests' terminal
ENTRY_SIZE = (120, 40)


def order_count(db: Path) -> int:
    """How many orders the database holds: a refused entry must leave it as it was."""
    conn = connect_db(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    finally:
        conn.close()


@asynccontextmanager
async def entry_screen(desk: Desk) -> AsyncIterator[tuple[object, Pilot]]:
    """The entry form for `desk`'s user, running: (the app, its pilot); the app's screen is the form."""
    from tests.tui_host import HostApp
    from tui.screens.entry import EntryScreen

    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=ENTRY_SIZE) as pilot:
        yield app, pilot


async def keys(pilot: Pilot, *pressed: str) -> None:
    """Press (or type) the keys, then let the app settle: one user step."""
    from tests.tui_host import press

    await press(pilot, *pressed)
    await pilot.pause()
