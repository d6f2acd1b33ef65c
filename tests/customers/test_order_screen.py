"""The order screen shows the header, the address "confirm ship-to" confirms, and takes a PO with `p`."""
from __future__ import annotations

from textual.widgets import Static

from db.service.order_header import HeaderInput
from db.service.orders import LineInput
from tests.customers.conftest import add_addresses
from tests.tui_host import HostApp, press
from tui.screens.order import OrderScreen
from tui.widgets.note_dialog import NoteDialog


async def test_po_required_blocks_release_until_p_gives_one(demo_db, desk_for) -> None:
    ids = add_addresses(demo_db)
    desk_for(demo_db, "sam").customers.edit("C00006", po_required=True)
    desk = desk_for(demo_db, "alice")
    earlier = desk.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", "1")],
                                 header=HeaderInput(po_number="PO-1"))
    o = desk.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", "1")],
                           header=HeaderInput(ship_to=ids["ship_2"], ship_method="express", note="call first"))
    got = desk.orders.claim(o.number)
    for step in o.checklist:
        desk.orders.tick(o.number, step, token=got.claim_token)
    app = HostApp(desk, lambda d: OrderScreen(d, o.number, got.claim_token))
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        header = str(screen.query_one("#order-header", Static).render())
        assert "Ship to Dock 9, 9 Dock Rd, Gate B, 07101 Newark, NJ, USA" in header
        assert "Bill to Accounts" in header and "Contact Pat Green" in header and "express" in header
        assert "call first" in header and "required to release" in header
        assert "→ Dock 9" in str(screen.query_one("#order-checklist", Static).render())
        assert "requires a PO number" in str(screen.query_one("#order-release", Static).render())
        await press(pilot, "p")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        await press(pilot, "PO-1", "enter")  # this customer's PO of an earlier order: a warning first
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        assert earlier.number in str(app.screen.query_one("#dlg-error").render())
        assert desk.orders.get(o.number).po_number is None
        await press(pilot, "enter")  # again: yes, a new order with the same PO
        await pilot.pause()
        assert app.screen is screen
        assert "Ready to release" in str(screen.query_one("#order-release", Static).render())
        await press(pilot, "r")
        await pilot.pause()
    done = desk.orders.get(o.number)
    assert done.state.value == "released" and done.po_number == "PO-1"
