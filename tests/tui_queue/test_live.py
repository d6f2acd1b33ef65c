"""Live behaviour: changes written by a real second OS process show without a key press."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.helpers import until
from tests.tui_queue.conftest import NOW_ISO, run_orderq, visible_rows
from tui.screens.queue import QueueView
from tests.conftest import connect_db

SIZE = (120, 35)


def row_of(path: Path, number: str) -> sqlite3.Row:
    c = connect_db(path)
    c.row_factory = sqlite3.Row
    try:
        return c.execute("SELECT * FROM orders WHERE number = ?", (number,)).fetchone()
    finally:
        c.close()


async def test_other_process_claim_and_new_order_show_live_cursor_stays(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.pause()
        total0 = view.source.total
        # the rep sits on the next queued item (the one another rep is about to claim)
        first_queued = next(i for i in range(total0) if view.source.row(i)["state"] == "queued")
        await pilot.press(*["down"] * first_queued)
        await pilot.pause()
        target = view.selected_row["number"]
        assert view.selected_row["claimed_by"] is None

        rc, out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "claim", "--user", "bob", "--json")
        assert rc == 0, err
        assert json.loads(out)["number"] == target
        # shown without a key press: the row now says bob, and the rep is told who did what
        assert await until(pilot, lambda: any(target in r and "bob" in r for r in visible_rows(app)))
        assert view.selected_row["number"] == target
        assert await until(pilot, lambda: any(f"bob claimed {target}" in n.message for n in app._notifications))

        # the rep moves to the end of the queue (due latest) and a new rush order lands above:
        # the cursor stays on the same item, at the same place on the screen
        await pilot.press("end", "up", "up")
        await pilot.pause()
        target = view.selected_row["number"]
        cursor_before, screen_row_before = view.cursor, view.cursor - int(view.scroll_y)
        c = connect_db(queue_db)
        cust = c.execute("SELECT code FROM customers WHERE tier = 'key_account' AND credit_limit_cents - "
                         "open_balance_cents > 100000 LIMIT 1").fetchone()[0]
        sku = c.execute("SELECT sku FROM products WHERE active = 1 AND stock > 10 AND price_e4 < 1000000 "
                        "LIMIT 1").fetchone()[0]
        c.close()
        rc, out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "order", "new", "--user", "bob",
                                        "--customer", cust, "--channel", "phone", "--type", "rush",
                                        "--line", f"{sku}:1", "--json")
        assert rc == 0, err
        new = json.loads(out)
        assert await until(pilot, lambda: view.source.total == total0 + 1)
        assert view.selected_row["number"] == target
        assert row_of(queue_db, new["number"])["due_at"] < row_of(queue_db, target)["due_at"]
        assert view.cursor == cursor_before + 1
        assert view.cursor - int(view.scroll_y) == screen_row_before  # same place on the screen


async def test_claim_taken_over_is_noticed(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """A supervisor force-releases my claim from another process: the registry drops it and I am told."""
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        number = app.claims.items()[0].number
        rc, _out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "force-release", number,
                                         "--user", "sam", "--reason", "rep went to lunch")
        assert rc == 0, err
        assert await until(pilot, lambda: number not in app.claims)
        assert any("your claim ended" in n.message for n in app._notifications)
