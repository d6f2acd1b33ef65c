"""An order posted through the API shows in a watching TUI session on the same database file, with
no key pressed (the change feed): the web shop's order that needs a rep reaches the rep's queue."""
from __future__ import annotations

import httpx

from db.service import Desk
from tests.api.conftest import SKU, Server, clean_customer
from tests.helpers import until
from tui.screens.queue import QueueView


async def test_an_order_needing_a_rep_shows_in_a_watching_queue(server: Server) -> None:
    from tui.app import OrderqApp

    desk = Desk.open(server.db, "alice")
    try:
        app = OrderqApp(desk, feed=True, keymap={})
        async with app.run_test(size=(120, 35)) as pilot:
            view = app.screen.query_one(QueueView)
            await pilot.pause()
            total0 = view.source.total
            async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                         headers={"Authorization": f"Bearer {server.keys['shop']}"}) as http:
                r = await http.post("/v1/orders", json={"customer": clean_customer(server.db), "type": "rush",
                                                        "lines": [{"sku": SKU, "qty": 1}]})
            assert r.status_code == 201 and r.json()["state"] == "queued"
            number = r.json()["number"]
            await until(pilot, lambda: view.source.total == total0 + 1, what="the queue to count the API's order")
            rows = [view.source.row(i) for i in range(view.source.total)]
            mine = next(row for row in rows if row is not None and row["number"] == number)
            assert mine["channel"] == "online" and mine["state"] == "queued"
    finally:
        desk.store.close()
