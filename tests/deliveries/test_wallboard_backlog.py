"""The supervisor's wallboard shows the delivery backlog and failures, live, on its title line."""
from __future__ import annotations

from textual.widgets import Static

from db.service import Desk
from db.service.orders import LineInput
from tests.deliveries.conftest import customer_without_contact, write_rules
from tests.helpers import until
from tests.kpi.wallapp import WallApp


async def test_the_wallboard_counts_pending_and_failed_deliveries(tmp_path, desk6_factory) -> None:
    _, rules = write_rules(tmp_path, smtp_port=2525)
    desk = desk6_factory(rules)
    app = WallApp(Desk.for_user(desk.store, "sam"), feed=True)
    async with app.run_test(size=(100, 30)) as pilot:
        def title() -> str:
            return str(app.screen.query_one("#title", Static).render())

        await until(pilot, lambda: getattr(app.screen, "data", None) is not None, what="the first figures")
        assert "deliveries" not in title()  # nothing owed: nothing said
        desk.released_order()  # C00006 has a contact: one mail pending
        desk.alice.orders.create(customer=customer_without_contact(desk.store), channel="online", type="standard",
                                 lines=[LineInput("BEV-0001", 1)])  # no contact email: failed at once
        app.feed_poke()
        await until(pilot, lambda: "deliveries 1 FAILED, 1 pending" in title(), what="the outbox on the title")
