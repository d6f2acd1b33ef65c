"""Pilot tests of the queue screen: what a rep sees and what their keys do to the shared database."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.enums import Priority, Tier
from core.money import from_cents_int
from core.triage import explain
from db import orders_read
from db.convert import dt
from db.orders_read import QueueFilter
from tests.helpers import until
from tests.tui_queue.conftest import OPEN, visible_rows
from tui.screens.queue import QueueScreen, QueueView
from tests.conftest import connect_db

SIZE = (120, 35)


def db_rows(path: Path, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    c = connect_db(path)
    c.row_factory = sqlite3.Row
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def open_queue(path: Path) -> list[sqlite3.Row]:
    c = connect_db(path)
    c.row_factory = sqlite3.Row
    try:
        return orders_read.window(c, QueueFilter(states=OPEN), 0, 1000)
    finally:
        c.close()


async def test_queue_shows_open_work_in_triage_order(queue_db: Path, make_app) -> None:  # noqa: ANN001
    expected = open_queue(queue_db)
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.screen.query_one(QueueView)
        assert view.source.total == len(expected)
        rows = visible_rows(app)
        shown = [r.split()[1] for r in rows if r.strip()]
        assert shown == [r["number"] for r in expected[: len(shown)]]
        assert len(shown) >= 20
        # earliest deadline first, and nothing released/shipped in the default view
        dues = [r["due_at"] for r in expected]
        assert dues == sorted(dues)
        assert {r["state"] for r in expected} <= set(OPEN)
        # the widget holds a window, never the whole queue
        assert view.source.cached_rows() <= view.source.PAGE * view.source.MAX_PAGES
        assert "open work" in str(app.screen.query_one("#qbar").render())


async def claim_next(pilot, app) -> None:  # noqa: ANN001
    """`c` claims and opens the order screen; `b` comes back to the queue keeping the claim."""
    await pilot.press("c")
    await pilot.pause()
    if not isinstance(app.screen, QueueScreen):
        await pilot.press("b")
        await pilot.pause()


async def test_claim_next_updates_row_and_registry_and_give_back(queue_db: Path, make_app) -> None:  # noqa: ANN001
    nxt = db_rows(queue_db, "SELECT number FROM orders WHERE state='queued' ORDER BY due_at, priority_level, "
                            "tier_rank, total_cents DESC, id LIMIT 1")[0]["number"]
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await claim_next(pilot, app)
        assert nxt in app.claims
        token = app.claims.token_for(nxt)
        row = db_rows(queue_db, "SELECT * FROM orders WHERE number = ?", (nxt,))[0]
        assert (row["state"], row["claimed_by"], row["claim_token"]) == ("in_progress", "alice", token)
        view = app.screen.query_one(QueueView)
        assert view.selected_row["number"] == nxt  # the cursor is on the claimed item
        line = next(r for r in visible_rows(app) if nxt in r)
        assert "alice" in line and "in progress" in line
        # u gives the selected claim back
        await pilot.press("u")
        await pilot.pause()
        row = db_rows(queue_db, "SELECT * FROM orders WHERE number = ?", (nxt,))[0]
        assert (row["state"], row["claimed_by"]) == ("queued", None)
        assert nxt not in app.claims
        line = next(r for r in visible_rows(app) if nxt in r)
        assert "alice" not in line and "queued" in line


async def test_claims_given_back_and_session_row_removed_on_exit(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await claim_next(pilot, app)
        await claim_next(pilot, app)
        held = [h.number for h in app.claims.items()]
        assert len(held) == 2
        sessions = db_rows(queue_db, "SELECT * FROM sessions")
        assert [(s["user"], s["screen"]) for s in sessions] == [("alice", "queue")]
    for number in held:
        row = db_rows(queue_db, "SELECT state, claimed_by FROM orders WHERE number = ?", (number,))[0]
        assert (row["state"], row["claimed_by"]) == ("queued", None)
    assert db_rows(queue_db, "SELECT * FROM sessions") == []
    actions = [r["action"] for r in db_rows(queue_db, "SELECT action FROM events WHERE entity='session'")]
    assert actions == ["session_started", "session_ended"]


async def test_lease_renewed_while_working(queue_db: Path, make_app, clock) -> None:  # noqa: ANN001
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        number = app.claims.items()[0].number
        clock.advance(minutes=6)
        app.renew_claims()
        row = db_rows(queue_db, "SELECT lease_expires_at FROM orders WHERE number = ?", (number,))[0]
        assert dt(row["lease_expires_at"]) == clock() + app.desk.ctx.rules.lease


async def test_search_by_number_customer_and_sku(queue_db: Path, make_app) -> None:  # noqa: ANN001
    target = open_queue(queue_db)[7]
    sku = db_rows(queue_db, "SELECT sku FROM order_lines WHERE order_id = ? LIMIT 1", (target["id"],))[0]["sku"]
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen.query_one(QueueView)
        await pilot.press("slash", *target["number"], "enter")
        await pilot.pause()
        assert view.source.total == 1
        assert target["number"] in visible_rows(app)[0]
        assert "search" in str(app.screen.query_one("#qbar").render())
        await pilot.press("escape")
        await pilot.pause()
        assert view.source.total == len(open_queue(queue_db))

        await pilot.press("slash", *target["customer_code"], "enter")
        await pilot.pause()
        shown = [r for r in visible_rows(app) if r.strip()]
        assert shown and all(target["customer_name"][:10] in r for r in shown)
        await pilot.press("escape")

        await pilot.press("slash", *sku, "enter")
        await pilot.pause()
        with_sku = {r["order_id"] for r in db_rows(queue_db, "SELECT order_id FROM order_lines WHERE sku = ?", (sku,))}
        expected = [r["number"] for r in open_queue(queue_db) if r["id"] in with_sku]
        assert view.source.total == len(expected)
        assert [r.split()[1] for r in visible_rows(app) if r.strip()] == expected[: view.size.height]


async def test_filters_state_class_channel_and_mine(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen.query_one(QueueView)
        # f opens the filter panel: untick "queued" in the state list, tick P1 in the class list
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("space")          # states list: the first option is "queued"
        await pilot.press("tab", "space")   # classes list: the first option is P1
        await pilot.press("tab", "down", "space")  # channels list: the second option is fax
        await pilot.press("enter")
        await pilot.pause()
        expected = [r for r in open_queue(queue_db)
                    if r["state"] in ("in_progress", "on_hold") and r["priority"] == "P1" and r["channel"] == "fax"]
        assert view.source.total == len(expected)
        bar = str(app.screen.query_one("#qbar").render())
        assert "class P1" in bar and "channel fax" in bar and "in progress/on hold" in bar
        # o in the panel goes back to open work (keeping class/channel): clear them all
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("tab", "space", "tab", "down", "space", "o")
        await pilot.pause()
        assert view.source.total == len(open_queue(queue_db))

        # m: only what I hold (the demo desk may already have alice on an order)
        await claim_next(pilot, app)
        await pilot.press("m")
        await pilot.pause()
        mine = [r for r in open_queue(queue_db) if r["claimed_by"] == "alice"]
        assert view.source.total == len(mine) >= 1
        assert "alice" in visible_rows(app)[0]
        await pilot.press("m")
        await pilot.pause()
        assert view.source.total == len(open_queue(queue_db))


async def test_why_panel_explains_the_selected_item(queue_db: Path, make_app, clock) -> None:  # noqa: ANN001
    from core.triage import sla_paused

    rows = open_queue(queue_db)
    # the fourth item or the next after it whose SLA clock runs (a paused one explains its pause instead)
    i = next(k for k in range(3, len(rows)) if not sla_paused(rows[k]["state"], rows[k]["hold_reason"]))
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["down"] * i)
        await pilot.pause()
        r = rows[i]
        why = str(app.screen.query_one("#why").render())
        want = explain(priority=Priority(r["priority"]), priority_source=r["priority_source"],
                       tier=Tier(r["customer_tier"]), total=from_cents_int(r["total_cents"]), due=dt(r["due_at"]),
                       now=clock(), cal=app.desk.store.calendar, position=i + 1, override=r["override_note"])
        assert f"Why {r['number']}" in why
        for line in want:
            assert line in why


async def test_help_palette_and_keymap(queue_db: Path, make_app, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    keys = tmp_path / "keys.toml"
    keys.write_text('"queue.claim-next" = "x"\n[queue]\nsearch = ["s", "slash"]\n')
    monkeypatch.setenv("ORDERQ_KEYS", str(keys))
    app = make_app(queue_db, keys_file=True)
    async with app.run_test(size=SIZE) as pilot:
        # the palette lists every action of the screen
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for want in ("Claim next", "Open", "Give back", "Search", "Filter", "Mine", "New order", "Returns",
                     "Quit", "Help"):
            assert want in titles
        assert "Wallboard" not in titles  # a rep may not open it: not offered
        # F1 shows the keys as remapped
        await pilot.press("f1")
        await pilot.pause()
        from tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        rows = {ident: keys for keys, _desc, ident in app.screen.rows}
        assert rows["queue.claim-next"] == "x"
        assert rows["queue.give-back"] == "u"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        # the remapped key works; the old one does not
        await pilot.press("c")
        await pilot.pause()
        assert len(app.claims) == 0
        await pilot.press("x")
        await pilot.pause()
        assert len(app.claims) == 1


async def test_wallboard_not_offered_to_a_rep(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """A rep's footer has no `w Wallboard` (it would only be refused), and `w` opens nothing."""
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = {a.binding.description for a in app.screen.active_bindings.values() if a.binding.show}
        assert "Wallboard" not in shown and "Claim next" in shown
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen) and not app._notifications


async def test_no_color_and_every_theme(queue_db: Path, make_app, monkeypatch, clock) -> None:  # noqa: ANN001
    from themes import theme_names

    assert set(theme_names()) >= {"orderq-dark", "orderq-light", "wallboard-hc", "green-screen"}
    for name in theme_names():
        app = make_app(queue_db, theme=name)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.theme == name
            assert app.screen.query_one(QueueView).source.total > 0
    monkeypatch.setenv("NO_COLOR", "1")
    clock.advance(hours=9)  # the demo desk keeps up: let its open work run late to see overdue in words
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.no_color
        # slack still readable without colour: overdue and at-risk say so in words/marks
        rows = visible_rows(app)
        assert any("overdue" in r for r in rows)


def test_unknown_user_is_refused_and_plain_orderq_opens_the_tui(queue_db: Path, cli) -> None:  # noqa: ANN001
    p = cli("--db", str(queue_db), "tui", "--user", "nobody")
    assert p.returncode == 2
    assert "unknown user 'nobody'" in p.stderr and "Traceback" not in p.stderr
    # plain `orderq` falls back to the TUI, which resolves the OS login (not a user here)
    p = cli("--db", str(queue_db))
    assert p.returncode == 2 and "unknown user" in p.stderr
    p = cli("--db", str(queue_db), "tui", "--user", "alice", "--theme", "nope")
    assert p.returncode == 2 and "unknown theme" in p.stderr


async def test_start_screen_option(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """--screen wallboard: refused for a rep (stays on the queue); a supervisor gets it (or is told
    it is not installed in a build without the wallboard)."""
    from tui.screens.queue import QueueScreen

    app = make_app(queue_db, "alice", screen="wallboard")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert any(n.message == "Only supervisors can open the wallboard; alice is a rep."
                   for n in app._notifications)
    refused = db_rows(queue_db, "SELECT data FROM events WHERE action = 'refused'")
    assert json.loads(refused[-1]["data"])["action"] == "wallboard.view"
    app = make_app(queue_db, "sam", screen="wallboard")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "WallboardScreen" or any(
            "not installed" in n.message for n in app._notifications)
        assert app.theme == "wallboard-hc"


async def test_at_risk_marked_once_the_rules_are_validated(queue_db: Path, clock) -> None:  # noqa: ANN001
    """A real session paints first and validates the rules right after (Store defer_rules); the
    rules' at-risk window (15 min) then marks an order due in 10 minutes, and not one due in 30."""
    from datetime import timedelta

    from db.convert import ts
    from db.service import Desk
    from tui.app import OrderqApp

    soon, later = [r["number"] for r in open_queue(queue_db)[:2]]
    c = connect_db(queue_db)
    with c:
        c.execute("UPDATE orders SET due_at = ? WHERE number = ?", (ts(clock() + timedelta(minutes=10)), soon))
        c.execute("UPDATE orders SET due_at = ? WHERE number = ?", (ts(clock() + timedelta(minutes=30)), later))
    c.close()
    desk = Desk.open(queue_db, "alice", clock=clock, defer_rules=True)
    assert not desk.store.rules_loaded
    app = OrderqApp(desk, feed=False, keymap={})
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert await until(pilot, lambda: desk.store.rules_loaded)
            for number, mark in ((soon, "in 10m !"), (later, "in 30m")):
                await pilot.press("slash", *number, "enter")
                assert await until(pilot, lambda: any(number in r for r in visible_rows(app)))
                row = next(r for r in visible_rows(app) if number in r)
                assert mark in row and (mark.endswith("!") or "!" not in row), row
    finally:
        desk.store.close()


async def test_customer_hold_countdown_stands_still(queue_db: Path, make_app, clock) -> None:  # noqa: ANN001
    """SPEC §2: the SLA clock pauses only while waiting on the customer. Two hours later, the
    held order shows the time it had left when it was held; a stock hold keeps counting."""
    from datetime import timedelta

    from db.convert import ts
    from db.service import Desk

    waiting, stock = [r["number"] for r in open_queue(queue_db) if r["state"] == "queued"][:2]
    c = connect_db(queue_db)
    with c:
        for number in (waiting, stock):
            c.execute("UPDATE orders SET due_at = ? WHERE number = ?", (ts(clock() + timedelta(hours=3)), number))
    c.close()
    sam = Desk.open(queue_db, "sam", clock=clock)
    try:
        sam.orders.hold(waiting, "customer_info", "asked for the ship-to address")
        sam.orders.hold(stock, "stock", "short on SKU")
    finally:
        sam.store.close()
    clock.advance(hours=2)
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        for number, due in ((waiting, "paused 3h left"), (stock, "in 1h 00m")):
            await pilot.press("slash", *number, "enter")
            assert await until(pilot, lambda: any(number in r for r in visible_rows(app)))
            row = next(r for r in visible_rows(app) if number in r)
            assert due in row, row
        why = str(app.screen.query_one("#why").render())
        assert "SLA clock paused" not in why  # the stock hold: the clock runs
        await pilot.press("slash", *waiting, "enter")
        assert await until(pilot, lambda: "SLA clock paused" in str(app.screen.query_one("#why").render()))


async def test_end_and_page_up_show_the_bottom_of_the_queue(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """End reads the last page from the bottom; PageUp then reads each page before it by key."""
    expected = [r["number"] for r in open_queue(queue_db)]
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        view = app.screen.query_one(QueueView)
        assert view.selected_row["number"] == expected[-1]
        assert expected[-1] in " ".join(visible_rows(app))
        for _ in range(4):
            await pilot.press("pageup")
        await pilot.pause()
        shown = [r.split()[1] for r in visible_rows(app) if r.strip()]
        start = expected.index(shown[0])
        assert shown == expected[start:start + len(shown)]
        assert view.selected_row["number"] == expected[view.cursor]
