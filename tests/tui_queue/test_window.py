"""The queue window the screen reads: same rows, in the same order, as sorting everything would give."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db import orders_read
from db.orders_read import QueueFilter
from tests.conftest import connect_db
from tests.helpers import until

OPEN = ("queued", "in_progress", "on_hold")


def _reference(c: sqlite3.Connection, f: QueueFilter, offset: int, limit: int) -> list[int]:
    where, args = f.where()
    return [r[0] for r in c.execute(
        f"SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id{where}"
        " ORDER BY o.due_at, o.priority_level, o.tier_rank, o.total_cents DESC, o.id LIMIT ? OFFSET ?",
        [*args, limit, offset])]


@pytest.mark.parametrize("f", [
    QueueFilter(states=OPEN),
    QueueFilter(states=("in_progress", "on_hold")),
    QueueFilter(states=("queued",)),
    QueueFilter(states=OPEN, channels=("phone", "email")),
    QueueFilter(states=OPEN, priorities=("P1",)),
    QueueFilter(states=OPEN, search="Granite"),
    QueueFilter(states=("released", "shipped", "queued")),
    QueueFilter(),
])
def test_window_matches_a_full_sort(queue_db: Path, f: QueueFilter) -> None:
    c = connect_db(queue_db)
    c.row_factory = sqlite3.Row
    try:
        total = orders_read.count(c, f)
        for offset in (0, 1, 17, max(0, total - 5), total + 3):
            got = [r["id"] for r in orders_read.window(c, f, offset, 16)]
            assert got == _reference(c, f, offset, 16), (f, offset)
        for offset in (0, 1, 17, total // 2 + 1, max(0, total - 5)):  # the second half read from the end
            got = [r["id"] for r in orders_read.window(c, f, offset, 16, total=total)]
            assert got == _reference(c, f, offset, 16), (f, offset, "from the end")
        everything = _reference(c, f, 0, 1000)
        for oid in everything[::37]:
            assert everything.index(oid) == orders_read.position(c, f, oid)
        # the page after / before any row, as scrolling asks for them (keyset, at any depth)
        rows = orders_read.window(c, f, 0, 1000)
        for k in range(0, len(rows), 13):
            key = orders_read.key_of(rows[k])
            assert [r["id"] for r in orders_read.window_after(c, f, key, 16)] == everything[k + 1:k + 17], (f, k)
            assert [r["id"] for r in orders_read.window_before(c, f, key, 16)] == everything[max(0, k - 16):k], (f, k)
        assert [r["id"] for r in orders_read.iter_all(c, f, batch=7)] == everything
    finally:
        c.close()


def test_window_works_on_a_plain_connection(queue_db: Path) -> None:
    """Any row factory will do: tools read the queue on a bare sqlite3 connection too."""
    plain = connect_db(queue_db)
    try:
        f = QueueFilter(states=OPEN)
        assert [r[0] for r in orders_read.window(plain, f, 0, 16)] == _reference(plain, f, 0, 16)
    finally:
        plain.close()


async def test_the_cursor_bar_follows_focus_and_theme(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """The view keeps its row styles between redraws (issue 14: Textual recomputes them at every
    line redrawn); they must still change when the focus or the theme does: the cursor bar is
    dimmer while the search box has the focus, and takes the new theme's colours."""
    from tui.screens.queue import QueueView

    app = make_app(queue_db)
    async with app.run_test(size=(120, 35)) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.pause()
        cursor_y = view.cursor - int(view.scroll_y)

        def cursor_bg() -> object:
            return list(view.render_line(cursor_y))[0].style.bgcolor

        focused = cursor_bg()
        await pilot.press("slash")
        assert await until(pilot, lambda: not view.has_focus)
        assert cursor_bg() != focused
        await pilot.press("escape")
        assert await until(pilot, lambda: view.has_focus)
        assert cursor_bg() == focused
        other = next(t for t in ("orderq-light", "green-screen") if t != app.theme)
        app.theme = other
        await pilot.pause()
        assert cursor_bg() != focused
