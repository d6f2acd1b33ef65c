"""Live: another OS process changes the order on screen; the screen reloads and says who did what."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from textual.widgets import Static

from db.store import system_clock
from tests.helpers import until
from tests.tui_host import HostApp, press
from tests.tui_order.test_order import SIZE, first_queued
from tui.screens.order import OrderScreen
from tests.conftest import connect_db

ORDERQ = Path(sys.executable).parent / "orderq"


async def orderq(*args: str) -> str:
    """The real CLI in its own process (the event loop keeps running while it works)."""
    proc = await asyncio.create_subprocess_exec(str(ORDERQ), *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def live_order(desk_for, desk_db) -> tuple[HostApp, str]:  # noqa: ANN001
    """alice on the first queued order's screen, following the real change feed."""
    desk = desk_for(desk_db, "alice", clock=system_clock)
    number = first_queued(desk_db)
    return HostApp(desk, lambda d: OrderScreen(d, number, None), feed=True), number


async def test_other_process_claims_and_holds(desk_for, desk_db) -> None:
    app, number = live_order(desk_for, desk_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        got = json.loads(await orderq("--db", str(desk_db), "claim", "--user", "bob", "--number", number, "--json"))
        await until(pilot, lambda: app.said("bob claimed it"))
        assert "Claimed by bob" in str(screen.query_one("#order-header", Static).render())
        await orderq("--db", str(desk_db), "hold", number, "--user", "bob", "--reason", "pricing",
                     "--note", "check price", "--token", got["claim_token"])
        await until(pilot, lambda: app.said("bob put it on hold (pricing: check price)"))
        assert "ON HOLD (pricing)" in str(screen.query_one("#order-header", Static).render())


async def test_supervisor_force_release_tells_the_holder(desk_for, desk_db) -> None:
    app, number = live_order(desk_for, desk_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "c")
        await pilot.pause()
        assert screen.mine and app.claims.token_for(number)
        await orderq("--db", str(desk_db), "force-release", number, "--user", "sam", "--reason", "rebalancing")
        await until(pilot, lambda: app.said("sam force-released the claim (rebalancing)"))
        assert not screen.mine and app.claims.token_for(number) is None
        assert "Not claimed" in str(screen.query_one("#order-header", Static).render())
        await press(pilot, "1")  # acting now is refused by the service, shown, not a traceback
        await pilot.pause()
        assert app.said("not claimed by you")


async def test_entry_shows_stock_moved_by_another_process(desk_for, desk_db) -> None:
    """A release in another process takes stock; the line being typed shows the new figure unasked."""
    
    from tests.tui_host import press
    from tui.screens.entry import EntryScreen
    from tui.widgets.line_row import LineRow

    desk = desk_for(desk_db, "alice", clock=system_clock)
    conn = connect_db(desk_db)
    number, sku, qty = conn.execute(
        "SELECT o.number, l.sku, l.qty FROM orders o JOIN order_lines l ON l.order_id = o.id"
        " WHERE o.state = 'queued' AND (SELECT COUNT(*) FROM order_lines x WHERE x.order_id = o.id"
        " AND x.sku = l.sku) = 1 ORDER BY o.id LIMIT 1").fetchone()
    stock = conn.execute("SELECT stock FROM products WHERE sku = ?", (sku,)).fetchone()[0]
    n_lines = conn.execute("SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id"
                           " WHERE o.number = ? AND l.sku = ?", (number, sku)).fetchone()[0]
    conn.close()
    assert n_lines == 1
    app = HostApp(desk, EntryScreen, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "C00001", "enter", "enter", "enter", sku, "enter")
        row = app.screen.query(LineRow).first()
        assert f"{stock} in stock" in str(row.info_label.render())
        bob = json.loads(await orderq("--db", str(desk_db), "claim", "--user", "bob", "--number", number, "--json"))
        steps = json.loads(await orderq("--db", str(desk_db), "order", "show", number, "--json"))["checklist"]
        for s in steps:
            await orderq("--db", str(desk_db), "tick", number, s["step"], "--user", "bob", "--token", bob["claim_token"])
        await orderq("--db", str(desk_db), "release", number, "--user", "bob", "--token", bob["claim_token"])
        await until(pilot, lambda: f"{stock - qty} in stock" in str(row.info_label.render()))
