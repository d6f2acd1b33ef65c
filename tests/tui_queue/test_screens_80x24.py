"""What each screen keeps at 80×24, the smallest terminal we support (SPEC: a desk over ssh).

Decided here:
- every screen's footer shows whole keys only, and always `q`/`^q` Quit, `f1` Help and `^p`
  Palette (which lists the rest), never a stray letter;
- the queue keeps cls, number, customer, value, due, state and claimed by (type, channel and
  tier give way; tier moves into the customer cell);
- the order screen's lines keep #, SKU, Description, Qty and Amount (Disc%, Sent, then Price give
  way); at 100 columns Price and Sent come back, and Amount is never dropped;
- the returns list keeps the return, its customer by name, reasons, refund and due.

The SVG snapshots pin the whole picture; the asserts say what matters in words.
Update the pictures after a deliberate change: `pytest tests/tui_queue/test_screens_80x24.py --snapshot-update`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from db.demo_returns import generate_returns
from db.store import Store
from tests.conftest import FakeClock
from tests.helpers import until
from tests.tui_host import press
from tui.widgets.footer import KeyFooter

SIZE = (80, 24)


@pytest.fixture
def returns_db(queue_db: Path, clock: FakeClock) -> Path:
    """The queue's demo with returns against its shipped orders, on the same fixed clock."""
    store = Store.open(queue_db, clock=clock)
    try:
        generate_returns(store, returns=8, seed=2)
    finally:
        store.close()
    return queue_db


def footer_text(app) -> str:  # noqa: ANN001
    return " ".join(f"{k} {d}" for k, d in app.screen.query_one(KeyFooter).shown)


async def on(app, name: str, *keys: str):  # noqa: ANN001, ANN201
    pilot = app._pilot  # noqa: SLF001
    for k in keys:
        await press(pilot, k)
    await until(pilot, lambda: type(app.screen).__name__ == name)
    await pilot.pause()
    return app.screen


@pytest.mark.parametrize(("user", "keys", "name"), [
    ("alice", (), "QueueScreen"), ("alice", ("enter",), "OrderScreen"), ("alice", ("n",), "EntryScreen"),
    ("carol", (), "ReturnsScreen"), ("carol", ("enter",), "ReturnProcessScreen"), ("sam", ("w",), "WallboardScreen"),
])
async def test_footer_fits_and_always_offers_quit_help_and_the_palette(returns_db: Path, make_app, user, keys, name) -> None:  # noqa: ANN001
    app = make_app(returns_db, user)
    async with app.run_test(size=SIZE) as pilot:
        app._pilot = pilot  # noqa: SLF001
        screen = await on(app, name, *keys)
        footer = screen.query_one(KeyFooter)
        text = str(footer.render())
        assert len(text.rstrip()) <= SIZE[0], text
        shown = footer_text(app)
        assert "Quit" in shown and "f1 Help" in shown and "^p Palette" in shown, shown
        assert text.rstrip().endswith("^p Palette"), text  # nothing after it: no stray letters


async def test_queue_at_80_columns_keeps_what_a_rep_needs(queue_db: Path, make_app) -> None:  # noqa: ANN001
    from tui.widgets.queue_view import layout

    keys = [k for k, *_ in layout(78)]
    assert keys == ["cls", "number", "customer", "value", "due", "state", "claimed"]
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "q Quit" in footer_text(app)


async def test_order_lines_keep_the_amount_at_80_and_100_columns(queue_db: Path, make_app) -> None:  # noqa: ANN001
    for width, want in ((80, ["no", "sku", "desc", "qty", "amount"]),
                        (100, ["no", "sku", "desc", "qty", "price", "amount", "shipped"]),
                        (140, ["no", "sku", "desc", "qty", "price", "disc", "amount", "shipped"])):
        app = make_app(queue_db)
        async with app.run_test(size=(width, 30)) as pilot:
            app._pilot = pilot  # noqa: SLF001
            screen = await on(app, "OrderScreen", "enter")
            table = screen.query_one("#order-lines")
            assert [str(c.key.value) for c in table.ordered_columns] == want, width
            # and every shown column is inside the panel: nothing scrolled out of sight
            assert sum(c.get_render_width(table) for c in table.ordered_columns) <= table.size.width, width


async def test_returns_list_at_80_columns(returns_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(returns_db, "carol")
    async with app.run_test(size=SIZE) as pilot:
        app._pilot = pilot  # noqa: SLF001
        screen = await on(app, "ReturnsScreen")
        table = screen.query_one("#returns-table")
        keys = [str(c.key.value) for c in table.ordered_columns]
        for want in ("number", "customer", "reasons", "refund", "due"):
            assert want in keys
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= table.size.width


# (order entry's picture at 80×24 is left out: its blinking input cursor makes it unstable; its footer is checked above)
@pytest.mark.parametrize(("user", "keys", "name"), [
    ("alice", (), "QueueScreen"), ("alice", ("enter",), "OrderScreen"), ("carol", (), "ReturnsScreen"), ("carol", ("enter",), "ReturnProcessScreen"), ("sam", ("w",), "WallboardScreen"),
])
def test_snapshot_80x24(returns_db: Path, make_app, snap_compare, user, keys, name) -> None:  # noqa: ANN001
    app = make_app(returns_db, user)
    app.notify = lambda *a, **k: None  # toasts time out on the wall clock: keep them out of the picture

    async def settle(pilot) -> None:  # noqa: ANN001
        for k in keys:
            await press(pilot, k)
        await until(pilot, lambda: type(app.screen).__name__ == name)
        # every table laid out to its columns: under load (-n 2 at load 10) the wallboard's reps table
        # was pictured before its last column was measured
        await until(pilot, lambda: all(
            t.virtual_size.width >= sum(c.get_render_width(t) for c in t.ordered_columns)
            for t in app.screen.query(DataTable)), what="the tables to be laid out")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
