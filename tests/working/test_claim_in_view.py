"""Working the queue within a view (issue 13, item 6): `c` and release-and-next claim only what the
rep's filter shows, and say so when it shows nothing queued."""
from __future__ import annotations

from pathlib import Path

import pytest

from db import claims
from db.orders_read import QueueFilter
from db.service import Desk
from tests.conftest import connect_db
from tests.helpers import until
from tests.tui_host import press
from tests.tui_queue.test_queue_screen import db_rows as rows
from tests.working.conftest import make_app, queue_db  # noqa: F401 - fixtures
from tui.screens.queue import QueueScreen

SIZE = (120, 35)
ORDER = "due_at, priority_level, tier_rank, total_cents DESC, id"
O_ORDER = ", ".join(f"o.{col.strip()}" for col in ORDER.split(","))


def busy_customer(path: Path) -> tuple[str, list[str]]:
    """A customer with at least two queued orders, none of them the queue's first: claiming
    outside the view would take someone else's order."""
    first = rows(path, f"SELECT customer_id FROM orders WHERE state = 'queued' ORDER BY {ORDER} LIMIT 1")[0][0]
    code = rows(path, """SELECT c.code FROM orders o JOIN customers c ON c.id = o.customer_id
                         WHERE o.state = 'queued' AND o.customer_id != ? GROUP BY c.code
                         HAVING COUNT(*) >= 2 ORDER BY COUNT(*) DESC, c.code LIMIT 1""", (first,))[0][0]
    numbers = [r[0] for r in rows(path, f"""SELECT o.number FROM orders o JOIN customers c ON c.id = o.customer_id
                                          WHERE o.state = 'queued' AND c.code = ? ORDER BY {O_ORDER}""", (code,))]
    return code, numbers


def test_claim_next_takes_the_filter(queue_db: Path, clock) -> None:  # noqa: ANN001, F811
    desk = Desk.open(queue_db, "alice", clock=clock)
    try:
        p4 = rows(queue_db, f"SELECT number FROM orders WHERE state = 'queued' AND priority = 'P4' ORDER BY {ORDER}")
        got = desk.orders.claim_next(QueueFilter(states=("queued", "in_progress", "on_hold"), priorities=("P4",)))
        assert got is not None and got.number == p4[0]["number"] and got.priority == "P4"
        # a view of holds only has nothing a claim could take: nothing is claimed, nothing written
        before = rows(queue_db, "SELECT MAX(id) FROM events")[0][0]
        assert desk.orders.claim_next(QueueFilter(states=("on_hold",))) is None
        assert desk.orders.claim_next(QueueFilter(search="no-such-customer-anywhere")) is None
        assert rows(queue_db, "SELECT MAX(id) FROM events")[0][0] == before
    finally:
        desk.store.close()


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN")
def test_the_narrowed_claim_still_walks_an_index_in_queue_order(queue_db: Path) -> None:  # noqa: F811
    """No sort and no table scan: the claim stays microseconds at 100,000 orders (bench_claim)."""
    n = QueueFilter(priorities=("P1", "P2"), channels=("phone",), search="Alpine").claim_narrowing()
    order = ", ".join(f"o.{col.strip()}" for col in claims.ORDERS.order_by.split(","))
    sql = f"SELECT o.id FROM {n.tables} WHERE o.{claims.ORDERS.claimable} AND {n.where} ORDER BY {order} LIMIT 1"
    c = connect_db(queue_db)
    try:
        plan = " | ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql, n.args))
    finally:
        c.close()
    assert "SEARCH o USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, plan


async def search(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press("slash")
    await press(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def claim_within_search(pilot, app, code: str) -> None:  # noqa: ANN001
    """Search the queue for `code`, press `c`, and wait for the order screen."""
    await pilot.pause()
    await search(pilot, code)
    await pilot.press("c")
    assert await until(pilot, lambda: not isinstance(app.screen, QueueScreen))


async def test_c_in_the_queue_claims_within_the_search(queue_db: Path, make_app) -> None:  # noqa: ANN001, F811
    code, numbers = busy_customer(queue_db)
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await claim_within_search(pilot, app, code)
        assert app.screen.number == numbers[0]
        row = rows(queue_db, "SELECT state, claimed_by FROM orders WHERE number = ?", (numbers[0],))[0]
        assert (row["state"], row["claimed_by"]) == ("in_progress", "alice")  # given back when the session ends


async def test_c_says_so_when_the_view_has_nothing_queued(queue_db: Path, make_app) -> None:  # noqa: ANN001, F811
    before = rows(queue_db, "SELECT COUNT(*) FROM orders WHERE claimed_by IS NOT NULL")[0][0]
    app = make_app(queue_db)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        real_notify = app.notify
        app.notify = lambda message, **kw: (notes.append(message), real_notify(message, **kw))  # type: ignore[method-assign]
        await search(pilot, "zzzz-nothing")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
    assert any("Nothing queued in this view" in n and "zzzz-nothing" in n for n in notes), notes
    assert rows(queue_db, "SELECT COUNT(*) FROM orders WHERE claimed_by IS NOT NULL")[0][0] == before


async def test_release_and_next_stays_within_the_filter(queue_db: Path, make_app) -> None:  # noqa: ANN001, F811
    code, numbers = busy_customer(queue_db)
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await claim_within_search(pilot, app, code)
        first = app.screen
        assert first.number == numbers[0]
        for n in range(1, len(first.order.checklist) + 1):
            await pilot.press(str(n))
            await pilot.pause()
        assert set(first.order.ticked) == set(first.order.checklist)
        await pilot.press("n")
        assert await until(pilot, lambda: app.screen is not first and not isinstance(app.screen, QueueScreen))
        assert app.screen.number == numbers[1]
        assert app.screen.mine
        assert numbers[1] in app.claims and numbers[0] not in app.claims
        got = {r["number"]: (r["state"], r["claimed_by"]) for r in
               rows(queue_db, "SELECT number, state, claimed_by FROM orders WHERE number IN (?, ?)", tuple(numbers[:2]))}
        assert got == {numbers[0]: ("released", None), numbers[1]: ("in_progress", "alice")}


def test_release_and_next_is_a_named_binding_in_the_footer() -> None:
    from tui.screens.order import OrderScreen

    b = next(b for b in OrderScreen.BINDINGS if getattr(b, "id", None) == "order.release-next")
    assert (b.key, b.action, b.show) == ("n", "release_next", True)
