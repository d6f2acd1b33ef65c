"""Asking for a screen while the PostgreSQL server is away is a message, not a crash.

Found by the tmux reconnect test: the order screen reads the event log as it is built, and with the
server stopped that read raised out of the app ("StoreError: cannot connect …" as a traceback, the
session gone). Now the rep is told, stays on the queue, and opens the order once the server is back.
"""
from __future__ import annotations

from db.service import Desk
from tests.helpers import until
from tests.pg.test_pg_feed import pg_ctl, server_back  # noqa: F401 - the fixture
from tests.pg_server import PgServer


async def test_opening_an_order_while_the_server_is_away_says_so_and_works_after(
        pg_demo_url: str, server_back: PgServer) -> None:  # noqa: F811
    from tui.app import OrderqApp

    desk = Desk.open(pg_demo_url, "alice")
    said: list[str] = []
    app = OrderqApp(desk, feed=False, keymap={})
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", what="the queue")
            real_notify = app.notify

            def notify(message: str, **kw) -> None:  # noqa: ANN003
                said.append(str(message))
                real_notify(message, **kw)

            app.notify = notify  # type: ignore[method-assign]
            pg_ctl(server_back, "stop", "-m", "fast")
            await pilot.press("enter")
            await until(pilot, lambda: any("cannot connect" in m or "connection" in m for m in said),
                        what="the rep to be told")
            assert type(app.screen).__name__ == "QueueScreen" and app.is_running
            pg_ctl(server_back, "start")
            await pilot.press("enter")
            await until(pilot, lambda: type(app.screen).__name__ == "OrderScreen", timeout=30,
                        what="the order screen once the server is back")
    finally:
        desk.store.close()
