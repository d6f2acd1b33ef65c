"""Live behaviour: changes written by a real second OS process show without a key press."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from tests.helpers import until
from tests.tui_queue.conftest import NOW_ISO, run_orderq, visible_rows
from tui.screens.queue import QueueView
from tests.conftest import connect_db

SIZE = (120, 35)


def why_text(app) -> str:  # noqa: ANN001
    """What the "why" panel under the queue says (the notice of a change under the cursor too)."""
    return str(app.screen.query_one("#why").render())


async def on_first_queued(pilot, view: QueueView) -> str:  # noqa: ANN001
    """Put the cursor on the next item another rep's claim would take; its number."""
    await pilot.pause()
    first_queued = next(i for i in range(view.source.total) if view.source.row(i)["state"] == "queued")
    await pilot.press(*["down"] * first_queued)
    await pilot.pause()
    return view.selected_row["number"]


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
        assert await until(pilot, lambda: f"bob claimed {target}" in why_text(app))

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


async def test_at_the_top_new_urgent_work_shows_and_the_cursor_follows_its_item(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """A rep at the top of the queue: a supervisor in another process makes an order from deep in
    the queue due first. The top stays on view (that order is drawn, not scrolled off above the
    window) and the cursor moves down a line with its item (issue 14: in bench_fanout, claims at the
    top of the queue were never drawn, the window having slid down under them)."""
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.pause()
        target = view.selected_row["number"]
        assert view.cursor == 0 and int(view.scroll_y) == 0
        deep = view.source.row(view.source.total - 1)["number"]
        assert not any(deep in r for r in visible_rows(app))
        due = datetime.fromtimestamp(row_of(queue_db, target)["due_at"] - 600, timezone.utc).isoformat()
        rc, _out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "override", deep, "--user", "sam",
                                         "--reason", "customer chased", "--due", due)
        assert rc == 0, err
        assert await until(pilot, lambda: any(deep in r for r in visible_rows(app)))
        assert view.selected_row["number"] == target
        assert view.cursor == 1 and int(view.scroll_y) == 0


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


async def test_a_change_under_the_cursor_is_told_in_the_why_panel_until_the_rep_moves(queue_db: Path, make_app,
                                                                                      clock) -> None:  # noqa: ANN001
    """Who changed the item under my cursor is said in the panel under the queue, not in a toast
    (a toast laid the whole screen out twice, in every session on that order: issue 14); a tick is
    not told. The line stays when the order leaves my view (released), so I still learn what
    happened to it, and goes when I move the cursor myself."""
    from db.service import Desk

    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen.query_one(QueueView)
        target = await on_first_queued(pilot, view)
        bob = Desk.open(queue_db, "bob", clock=clock)  # another connection: seen through the feed
        try:
            got = bob.orders.claim_next()
            assert got is not None and got.number == target
            assert await until(pilot, lambda: f"bob claimed {target}" in why_text(app))
            assert "Changed under you" in why_text(app) and f"Why {target}" in why_text(app)
            assert not app._notifications  # no toast
            # bob ticks its checklist: nothing told (the queue shows no checklist; a toast a step
            # covered the screen)
            first, *rest = bob.orders.get(target).checklist
            bob.orders.tick(target, first, token=got.claim_token)
            last = bob.store.conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
            assert await until(pilot, lambda: app._feed.cursor >= last)  # the tick was read and dispatched
            await pilot.pause()
            assert "ticked" not in why_text(app) and not app._notifications
            for step in rest:
                bob.orders.tick(target, step, token=got.claim_token)
            bob.orders.release(target, token=got.claim_token)
        finally:
            bob.store.close()
        # the order left the open-work view: the cursor is on another item, the notice still says why
        assert await until(pilot, lambda: f"bob released {target}" in why_text(app))
        assert view.selected_row["number"] != target and f"Why {target}" not in why_text(app)
        assert not app._notifications
        await pilot.press("down")
        assert await until(pilot, lambda: "Changed under you" not in why_text(app))
