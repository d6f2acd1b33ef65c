"""A session that starts elsewhere than the queue (issue 14): the supervisor's wallboard, carol's
returns. The queue is built only when the user goes to it (Esc), with the same keys as before, and
the first screen still follows other processes' changes."""
from __future__ import annotations

import json
from pathlib import Path

from db.store import system_clock
from tests.helpers import until
from tests.tui_host import press
from tests.tui_queue.conftest import run_orderq

SIZE = (120, 35)


def names(app) -> list[str]:  # noqa: ANN001
    return [type(s).__name__ for s in app.screen_stack]


async def test_wallboard_first_builds_the_queue_only_when_the_supervisor_goes_to_it(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, "sam", screen="wallboard")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        await until(pilot, lambda: app._background_started, what="the start-up after the first paint")
        assert "QueueScreen" not in names(app)  # it was built and kept, hidden, under the board
        await press(pilot, "escape")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert "WallboardScreen" not in names(app)
        await press(pilot, "w")
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        await press(pilot, "escape")  # back under it, as before
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert names(app).count("QueueScreen") == 1


async def test_returns_first_builds_the_queue_on_escape(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, "carol")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "ReturnsScreen")
        assert "QueueScreen" not in names(app)
        await press(pilot, "escape")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert "ReturnsScreen" not in names(app)


async def test_a_rep_refused_the_wallboard_lands_on_the_queue(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, "alice", screen="wallboard")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert "WallboardScreen" not in names(app)


async def test_wallboard_first_follows_another_process(queue_db: Path, desk_for) -> None:  # noqa: ANN001
    """The feed starts after the first paint; with no queue to say it painted, the app says so itself."""
    from tui.app import OrderqApp

    desk = desk_for(queue_db, "sam", clock=system_clock)
    app = OrderqApp(desk, screen="wallboard", feed=True, keymap={}, session=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen" and app.screen.data is not None)
        def depth() -> int:
            return sum(app.screen.data.report["orders"]["queue_depth"].values())

        before = depth()
        customer, sku = desk.store.conn.execute(
            "SELECT (SELECT code FROM customers ORDER BY id LIMIT 1),"
            " (SELECT sku FROM products WHERE active = 1 AND stock > 10 ORDER BY sku LIMIT 1)").fetchone()
        rc, out, err = await run_orderq("--db", str(queue_db), "order", "new", "--user", "alice", "--customer", customer,
                                        "--channel", "phone", "--type", "standard", "--line", f"{sku}:1", "--json")
        assert rc == 0, err
        assert json.loads(out)
        await until(pilot, lambda: depth() == before + 1, timeout=15, what="the new order on the board")
