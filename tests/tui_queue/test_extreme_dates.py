"""Extreme stored times (issue 17 item 9): the queue scrolled to its end, the why panel, the order screen
and the wallboard all paint rows whose times lie past datetime's range, instead of crashing the TUI."""
from __future__ import annotations

import pytest

from pathlib import Path

from tests.foundation.test_dates import plant_extremes
from tests.kpi.wallapp import WallApp
from tests.helpers import until
from tests.tui_queue.conftest import visible_rows
from tui.screens.queue import QueueScreen, QueueView
from tui.screens.wallboard import WallboardScreen

from db.service import Desk
from tests.conftest import connect_db


def plant_more(db: Path) -> None:
    """Besides `plant_extremes`: a breached open order due in year 1, a live claim whose lease ends past 9999."""
    plant_extremes(db)
    c = connect_db(db)
    c.execute("UPDATE orders SET state = 'queued', due_at = -1e300, claimed_by = NULL, claim_token = NULL,"
              " lease_expires_at = NULL WHERE number = 'SO-000014'")
    c.execute("UPDATE orders SET state = 'in_progress', claimed_by = 'bob', claim_token = 'tok', claimed_at = -1e300,"
              " lease_expires_at = 1e300, due_at = 1e300 WHERE number = 'SO-000015'")
    c.commit()
    c.close()


@pytest.mark.sqlite_only("plants 9e999 (SQLite stores inf; PostgreSQL's double precision refuses the literal)")
async def test_queue_scrolled_to_the_end_and_an_extreme_order_opened(queue_db: Path, make_app) -> None:  # noqa: ANN001
    plant_more(queue_db)
    app = make_app(queue_db)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        await pilot.press("end")
        await until(pilot, lambda: any("SO-000015" in r or "SO-000012" in r for r in visible_rows(app)))
        shown = " ".join(visible_rows(app))
        assert "SO-000012" in shown and "SO-000015" in shown  # due 9999: the last rows of the queue
        await pilot.press("home")
        await until(pilot, lambda: "SO-000014" in " ".join(visible_rows(app)))  # due year 1: the first
        view = app.screen.query_one(QueueView)
        await pilot.press("end")
        await pilot.pause()
        for _ in range(3):  # the why panel of the last rows
            await pilot.press("up")
            await pilot.pause()
        assert view.source.total > 0
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, QueueScreen))
        await pilot.pause()
    # leaving the context re-raises anything the app raised while painting


@pytest.mark.sqlite_only("plants 9e999 (SQLite stores inf; PostgreSQL's double precision refuses the literal)")
async def test_wallboard_paints_extreme_rows(queue_db: Path, clock) -> None:  # noqa: ANN001
    plant_more(queue_db)
    desk = Desk.open(queue_db, "sam", clock=clock)
    app = WallApp(desk, feed=False)
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WallboardScreen) and app.screen.data is not None)
            numbers = [w.number for w in app.screen.data.breached]
            assert "SO-000014" in numbers
            await pilot.pause()
    finally:
        desk.store.close()
