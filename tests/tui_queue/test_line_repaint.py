"""A change repaints only the lines it changed, and those lines show the new values (issue 14).

The queue screen renders a partial update band by band (tui/cropped_compositor.py) and its why
panel line by line (tui/widgets/line_panel.py). What a user sees is what the terminal was sent, so
these tests keep a terminal fed with every update the app writes (the bench's VT emulator), mark
the lines that must not be sent again, let another connection change the desk, and compare: the
changed lines show the new values, exactly as a full repaint draws them, and the marked lines
were left alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench._fanout_host import Terminal
from db.service import Desk
from tests.helpers import until
from tui.screens.queue import QueueView

COLS, ROWS = 120, 35
MARK = "#" * COLS  # a line the terminal was not sent again keeps it


class Sent:
    """What the terminal shows: every update the app's compositor made, written as the bytes a real
    session sends (headless apps compute the update and then write nothing)."""

    def __init__(self, app: Any, rows: int = ROWS) -> None:
        self.term = Terminal(rows, COLS)
        self.updates = 0
        display = app._display

        def write(screen: Any, update: Any) -> None:
            if update is not None and hasattr(update, "render_segments"):
                self.term.feed(update.render_segments(app.console).encode())
                self.updates += 1
            display(screen, update)

        app._display = write

    def line(self, y: int) -> str:
        return self.term.lines()[y]

    def mark(self, *ys: int, x0: int = 0, x1: int = COLS) -> str:
        """Mark columns x0..x1 of these lines; what such a line reads while it is not sent again."""
        for y in ys:
            self.term.grid[y][x0:x1] = list(MARK[x0:x1])
        return self.line(ys[0])


def full_repaint(app: Any) -> list[str]:
    """The whole screen as a full repaint draws it now."""
    return [s.text.rstrip() for s in app.screen._compositor.render_strips()]


async def test_a_changed_row_shows_its_new_value_and_no_other_row_is_sent_again(queue_db: Path, make_app,
                                                                                  clock) -> None:  # noqa: ANN001
    app = make_app(queue_db, feed=True)
    sent = Sent(app)
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.pause()
        top = view.region.y  # the screen line of the view's first row
        first_queued = next(i for i in range(view.source.total) if view.source.row(i)["state"] == "queued")
        assert first_queued > 0, "the cursor (row 0) must not be on the order bob claims"
        target = view.source.row(first_queued)["number"]
        assert await until(pilot, lambda: target in sent.line(top + first_queued), what="the first paint")
        others = [top + y for y in range(view.size.height) if y != first_queued]
        sent.mark(*others)
        before = sent.updates

        bob = Desk.open(queue_db, "bob", clock=clock)  # another connection: seen through the feed
        try:
            got = bob.orders.claim_next()
        finally:
            bob.store.close()
        assert got is not None and got.number == target
        assert await until(pilot, lambda: "bob" in sent.line(top + first_queued), what="bob's claim on screen")
        assert sent.updates > before
        await pilot.pause()
        full = full_repaint(app)
        assert sent.line(top + first_queued) == full[top + first_queued]  # the whole row, as drawn anew
        assert target in full[top + first_queued] and "bob" in full[top + first_queued]
        assert [sent.line(y) for y in others] == [MARK] * len(others)  # the other rows were not sent


async def test_the_why_panel_sends_only_its_changed_lines_and_a_notice_leaves_no_trace(queue_db: Path, make_app,
                                                                                       clock) -> None:  # noqa: ANN001
    """The notice line comes and goes in the why panel: the lines that changed show what a full
    repaint shows, the heading (unchanged) is not sent again, and when the notice goes no line of
    it is left on the terminal."""
    app = make_app(queue_db, feed=True)
    sent = Sent(app)
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        view = app.screen.query_one(QueueView)
        why = app.screen.query_one("#why")
        await pilot.pause()
        first_queued = next(i for i in range(view.source.total) if view.source.row(i)["state"] == "queued")
        await pilot.press(*["down"] * first_queued)
        target = view.selected_row["number"]
        head = why.content_region.y  # "Why <number>  <customer> ..."
        lines = range(why.content_region.y, why.content_region.bottom)
        assert await until(pilot, lambda: f"Why {target}" in sent.line(head), what="the panel for the target")
        await pilot.pause()
        marked = sent.mark(head, x0=why.content_region.x, x1=why.content_region.right)  # its text, not its padding

        bob = Desk.open(queue_db, "bob", clock=clock)
        try:
            got = bob.orders.claim_next()
        finally:
            bob.store.close()
        assert got is not None and got.number == target
        assert await until(pilot, lambda: any(f"bob claimed {target}" in sent.line(y) for y in lines),
                           what="the notice on screen")
        await pilot.pause()
        full = full_repaint(app)
        assert sent.line(head) == marked  # the heading says the same: not sent again
        assert [sent.line(y) for y in lines][1:] == full[head + 1: why.content_region.bottom]
        assert any("claimed by bob" in sent.line(y) for y in lines)

        await pilot.press("down", "up")  # the rep moves: the notice goes
        assert await until(pilot, lambda: not any("Changed under you" in sent.line(y) for y in lines),
                           what="the notice to go")
        await pilot.pause()
        full = full_repaint(app)
        assert [sent.line(y) for y in lines] == full[head: why.content_region.bottom]
        assert f"Why {target}" in sent.line(head)


async def test_orders_gone_off_screen_send_the_scrollbar_only_when_its_thumb_moves(queue_db: Path, make_app,
                                                                                  clock) -> None:  # noqa: ANN001
    """Orders cancelled off screen, one at a time: the count in the bar says so each time; while the
    scrollbar's thumb stays where it was (as a full repaint draws it) its column is not sent again
    (redrawing it renders every row of the view), and once the thumb moves the terminal shows it
    where a full repaint draws it. (A short terminal: the thumb is small, and stays for a few.)"""
    rows = 20
    app = make_app(queue_db, feed=True)
    sent = Sent(app, rows)
    async with app.run_test(size=(COLS, rows)) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.pause()
        bar = view.vertical_scrollbar.region
        assert view.show_vertical_scrollbar and bar.height > 1
        column = [(y, bar.x) for y in range(bar.y, bar.bottom)]

        def drawn() -> list[str]:
            full = full_repaint(app)
            return [full[y][x] if x < len(full[y]) else " " for y, x in column]

        first = drawn()
        total = view.source.total
        stayed = 0
        sam = Desk.open(queue_db, "sam", clock=clock)  # a supervisor, another connection
        try:
            for y, x in column:
                sent.term.grid[y][x] = "#"
            for n in range(1, 40):
                sam.orders.cancel(view.source.row(view.source.total - 1)["number"], "customer withdrew")
                assert await until(pilot, lambda n=n: f"{total - n:,} items" in sent.line(0), what="the count")
                await pilot.pause()
                now = drawn()
                if now != first:
                    break
                assert [sent.term.grid[y][x] for y, x in column] == ["#"] * len(column)  # not sent
                stayed += 1
            else:
                raise AssertionError("the thumb never moved")
            assert stayed >= 1, "no cancel left the thumb where it was: nothing was tested"
            assert [sent.term.grid[y][x] for y, x in column] == now  # sent whole, where it is now
        finally:
            sam.store.close()
