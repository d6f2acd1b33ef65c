"""Changes that touch nothing a queue session shows are judged from the events alone (issue 14:
a hundred sessions get every change): each decision QueueSource.unseen makes, on real commands
against a real SQLite file, and that a skipped change never leaves a wrong row: the rows below the
window are right when the rep scrolls to them.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bench._fanout_writer import add_phone_orders
from db import events, orders_read
from db.orders_read import QueueFilter
from db.service import Desk
from db.service.orders import LineInput
from tests.conftest import FakeClock
from tests.helpers import until
from tests.tui_queue.conftest import NOW_ISO, run_orderq
from tui.queue_source import QueueSource
from tui.screens.queue import QueueView
from tui.widgets.queue_view import drawn_of

OPEN = ("queued", "in_progress", "on_hold")
HEIGHT = 20
SIZE = (120, 35)


@pytest.fixture
def deep_db(queue_db: Path) -> Path:
    """The demo desk plus a morning's phone orders: a queue several screens tall."""
    add_phone_orders(queue_db, 150)
    return queue_db


def db_order(desk: Desk, f: QueueFilter) -> list[str]:
    return [r["number"] for r in orders_read.iter_all(desk.store.conn, f)]


class Watch:
    """A queue source read as a session would (its window cached), and the events of each command."""

    def __init__(self, db: Path, clock: FakeClock, f: QueueFilter | None = None, first: int = 0) -> None:
        self.rep = Desk.open(db, "alice", clock=clock)
        self.sup = Desk.open(db, "sam", clock=clock)
        self.source = QueueSource(self.rep, f or QueueFilter(states=OPEN))
        self.first = first
        self.source.reload()
        for i in range(min(self.source.total, first + 64 + HEIGHT)):  # the window and a page past it
            self.source.row(i)
        self.cursor = events.last_id(self.rep.store.conn)

    def batch(self) -> list:
        got = events.since(self.rep.store.conn, self.cursor)
        self.cursor = got[-1].id if got else self.cursor
        return got

    def unseen(self) -> bool:
        return self.source.unseen(self.batch(), self.first, HEIGHT)

    def number_at(self, rank: int) -> str:
        return self.source.row(rank)["number"]

    def due_after(self, rank: int, minutes: int):  # noqa: ANN201 - an aware datetime
        return orders_read_due(self.sup, self.number_at(rank)) + timedelta(minutes=minutes)

    def close(self) -> None:
        self.rep.store.close()
        self.sup.store.close()


def phone_order(db: Path, customer: str, sku: str):  # noqa: ANN201 - what create returns
    """An order taken by phone now, on the store's own clock (due after the demo's morning: deep)."""
    today = Desk.open(db, "sam")
    try:
        return today.orders.create(customer=customer, channel="phone", type="standard", lines=[LineInput(sku, 1)],
                                   typed=False)
    finally:
        today.store.close()


def orders_read_due(desk: Desk, number: str):  # noqa: ANN201
    return desk.orders.get(number).due_at


def test_a_deep_override_is_unseen_and_the_rows_below_are_right_when_scrolled_to(deep_db: Path, clock: FakeClock) -> None:
    w = Watch(deep_db, clock)
    try:
        window = [w.number_at(i) for i in range(HEIGHT)]
        # an order below the window moves further down, past other cached rows
        moved = w.number_at(HEIGHT + 5)
        w.sup.orders.override(moved, reason="customer called", due_at=w.due_after(HEIGHT + 30, 1))
        assert w.unseen()
        assert [w.number_at(i) for i in range(HEIGHT)] == window
        order = db_order(w.rep, w.source.filter)
        assert order.index(moved) > HEIGHT + 5
        # the rep scrolls down: every row is where the database has it, none drawn from before
        assert [w.number_at(i) for i in range(len(order))] == order
    finally:
        w.close()


def test_an_override_into_or_out_of_the_window_is_read(deep_db: Path, clock: FakeClock) -> None:
    w = Watch(deep_db, clock)
    try:
        top_due = orders_read_due(w.sup, w.number_at(0))
        w.sup.orders.override(w.number_at(HEIGHT + 5), reason="rush", due_at=top_due + timedelta(minutes=1))
        assert not w.unseen()  # it lands on view
        w.source.reload()
        w.sup.orders.override(w.number_at(3), reason="later", due_at=w.due_after(HEIGHT + 40, 1))
        assert not w.unseen()  # it leaves the view
    finally:
        w.close()


def test_straight_through_intake_is_unseen_but_a_queued_one_is_read(deep_db: Path, clock: FakeClock) -> None:
    w = Watch(deep_db, clock)
    try:
        c = w.sup.store.conn
        known = c.execute("SELECT code FROM customers WHERE known = 1 ORDER BY id LIMIT 1").fetchone()[0]
        sku = c.execute("SELECT sku FROM products WHERE active = 1 AND stock > 1000 ORDER BY sku LIMIT 1").fetchone()[0]
        made = w.sup.orders.create(customer=known, channel="edi", type="standard", lines=[LineInput(sku, 1)], typed=False)
        assert made.state == "released"  # straight through: never in open work
        assert w.unseen()
        assert w.source.total == len(db_order(w.rep, w.source.filter))
        # taken by phone today it is queued for a rep, below the window: counted in, no read
        window = [w.number_at(i) for i in range(HEIGHT)]
        assert phone_order(deep_db, known, sku).state == "queued"
        total = w.source.total
        assert w.unseen()
        order = db_order(w.rep, w.source.filter)
        assert w.source.total == total + 1 == len(order)
        assert [w.number_at(i) for i in range(HEIGHT)] == window
        assert [w.number_at(i) for i in range(len(order))] == order  # and in its place when scrolled to
        # one the count holds already (read after it committed) is not counted twice: it is read
        cursor = events.last_id(w.rep.store.conn)
        phone_order(deep_db, known, sku)
        w.source.reload()
        for i in range(HEIGHT + 64):
            w.source.row(i)
        assert not w.source.unseen(events.since(w.rep.store.conn, cursor), 0, HEIGHT)
        assert w.source.total == len(db_order(w.rep, w.source.filter))
        # a view of every state holds the released one too: read
        every = Watch(deep_db, clock, QueueFilter())
        try:
            every.sup.orders.create(customer=known, channel="edi", type="standard", lines=[LineInput(sku, 1)], typed=False)
            assert not every.unseen()
        finally:
            every.close()
    finally:
        w.close()


def test_a_tick_off_view_is_unseen_and_a_search_is_always_read(deep_db: Path, clock: FakeClock) -> None:
    w = Watch(deep_db, clock, first=40)  # paged down: the top of the queue is above the window
    try:
        bob = Desk.open(deep_db, "bob", clock=clock)
        try:
            got = bob.orders.claim_next()
            assert got is not None and w.rep.orders.get(got.number) is not None
            assert not w.unseen()  # a claim: its row changes (it is read, above the window or not)
            w.source.reload()
            for i in range(w.first + HEIGHT):
                w.source.row(i)
            order = bob.orders.get(got.number)
            bob.orders.tick(got.number, order.checklist[0], token=got.claim_token)
            assert w.unseen()
            # on view, a tick draws nothing new either: its row is the database's, but for the version
            on_view = Watch(deep_db, clock)
            try:
                rank = next(i for i in range(HEIGHT) if on_view.source.row(i)["number"] == got.number)
                bob.orders.tick(got.number, order.checklist[1], token=got.claim_token)
                assert on_view.unseen()
                fresh = orders_read.window(on_view.rep.store.conn, on_view.source.filter, rank, 1)[0]
                assert drawn_of(on_view.source.row(rank)) == drawn_of(fresh)
            finally:
                on_view.close()
        finally:
            bob.store.close()
        s = Watch(deep_db, clock, QueueFilter(states=OPEN, search="SO-"))
        try:
            s.sup.orders.override(s.number_at(HEIGHT + 5), reason="later", due_at=s.due_after(HEIGHT + 30, 1))
            assert not s.unseen()
        finally:
            s.close()
    finally:
        w.close()


async def live_view(app, pilot) -> tuple[QueueView, int, list[str]]:  # noqa: ANN001
    """The queue on view with its feed woken by the database (the -wal watch on SQLite, LISTEN on
    PostgreSQL): the view, its height and the lines it draws."""
    view = app.screen.query_one(QueueView)
    await pilot.pause()
    assert await until(pilot, lambda: app.feed_state in ("watch", "listen"), what="the feed to go live")
    height = view.size.height
    return view, height, [view.render_line(y).text for y in range(height)]


async def test_a_deep_override_from_another_process_changes_nothing_on_screen_and_scrolling_shows_it(
        deep_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(deep_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        view, height, before = await live_view(app, pilot)
        moved = view.source.row(height + 3)["number"]
        anchor = view.source.row(height + 25)["number"]
        c = view.source.desk.store.conn
        due = c.execute("SELECT due_at FROM orders WHERE number = ?", (anchor,)).fetchone()[0]
        from db.convert import dt

        rc, _out, err = await run_orderq("--db", str(deep_db), "--now", NOW_ISO, "override", moved,
                                         "--user", "sam", "--reason", "customer called",
                                         "--due", (dt(due) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert rc == 0, err
        last = events.last_id(c)
        assert await until(pilot, lambda: app._feed.cursor >= last)
        await pilot.pause()
        assert [view.render_line(y).text for y in range(height)] == before  # nothing on view changed
        # the rep pages down to where the order was and where it went: the rows are the database's
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        top = int(view.scroll_y)
        order = [r["number"] for r in orders_read.iter_all(c, view.source.filter)]
        drawn = [view.render_line(y).text.split()[1] for y in range(height)]
        assert drawn == order[top:top + height]


async def test_a_phone_order_queued_below_the_window_changes_the_count_not_the_rows(deep_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(deep_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        view, height, before = await live_view(app, pilot)
        total = view.source.total
        c = view.source.desk.store.conn
        known = c.execute("SELECT code FROM customers WHERE known = 1 ORDER BY id LIMIT 1").fetchone()[0]
        sku = c.execute("SELECT sku FROM products WHERE active = 1 AND stock > 1000 ORDER BY sku LIMIT 1").fetchone()[0]
        rc, _out, err = await run_orderq("--db", str(deep_db), "order", "new", "--user", "sam", "--customer", known,
                                         "--channel", "phone", "--type", "standard", "--line", f"{sku}:1", "--json")
        assert rc == 0, err
        bar = lambda: str(app.screen.query_one("#qbar").render())  # noqa: E731
        assert await until(pilot, lambda: f"{total + 1:,} items" in bar())
        assert [view.render_line(y).text for y in range(height)] == before  # the rows on view stay
        await pilot.press("end")
        await pilot.pause()
        order = [r["number"] for r in orders_read.iter_all(c, view.source.filter)]
        top = int(view.scroll_y)
        assert [view.render_line(y).text.split()[1] for y in range(height)] == order[top:top + height]
