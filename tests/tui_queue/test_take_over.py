"""`u` on your own order claimed in another session offers to take it over (issue 12 §4): before,
it asked for "its claim token", which a TUI user cannot give. The other session is a real `orderq`
process; taking over gives this session a new token, and the old one is refused."""
from __future__ import annotations

import json
from pathlib import Path

from tests.tui_queue.conftest import NOW_ISO, run_orderq, visible_rows, wait_until
from tui.widgets.note_dialog import Confirm

SIZE = (120, 35)


async def claimed_elsewhere(pilot, app, db: Path) -> tuple[str, str]:  # noqa: ANN001
    """alice claims the next order in another `orderq` process; this session searches for it and
    waits until its row shows her. Returns (number, the other session's token)."""
    rc, out, err = await run_orderq("--db", str(db), "--now", NOW_ISO, "claim", "--user", "alice", "--json")
    assert rc == 0, err
    got = json.loads(out)
    number = got["number"]
    await pilot.press("slash", *number, "enter")
    assert await wait_until(pilot, lambda: any(number in r and "alice" in r for r in visible_rows(app)))
    return number, got["claim_token"]


async def asked_to_take_over(pilot, app, key: str) -> Confirm:  # noqa: ANN001
    await pilot.press(key)
    assert await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
    return app.screen


async def test_give_back_on_a_claim_from_another_session_offers_take_over(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        number, old = await claimed_elsewhere(pilot, app, queue_db)

        dialog = await asked_to_take_over(pilot, app, "u")
        assert "claimed by you in another session" in dialog.question
        assert not any("claim token" in n.message for n in app._notifications)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: number in app.claims)
        new = app.claims.token_for(number)
        assert new and new != old

        # the other session's token is fenced out
        rc, _out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "unclaim", number,
                                         "--user", "alice", "--token", old)
        assert rc == 2 and "no longer valid" in err
        # and this session can now give it back with one more key
        await pilot.press("u")
        assert await wait_until(pilot, lambda: number not in app.claims
                                and any(number in r and "queued" in r for r in visible_rows(app)))


async def test_declining_the_take_over_changes_nothing(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        number, _old = await claimed_elsewhere(pilot, app, queue_db)
        await asked_to_take_over(pilot, app, "u")
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert number not in app.claims
        rc, out, _ = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "order", "show", number, "--json")
        assert json.loads(out)["claimed_by"] == "alice"


async def test_the_session_taken_over_from_is_told_and_forgets_the_token(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert await wait_until(pilot, lambda: len(app.claims) == 1)
        number = app.claims.items()[0].number
        rc, _out, err = await run_orderq("--db", str(queue_db), "--now", NOW_ISO, "claim", "--user", "alice",
                                         "--number", number, "--take-over")
        assert rc == 0, err
        assert await wait_until(pilot, lambda: number not in app.claims)
        assert any(f"{number}: your claim was taken over in another session" in n.message
                   for n in app._notifications)


async def test_claim_on_the_order_screen_offers_take_over_too(queue_db: Path, make_app) -> None:  # noqa: ANN001
    from tui.screens.order import OrderScreen

    app = make_app(queue_db, feed=True)
    async with app.run_test(size=SIZE) as pilot:
        number, _old = await claimed_elsewhere(pilot, app, queue_db)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))
        assert not app.screen.mine
        await asked_to_take_over(pilot, app, "c")
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen) and app.screen.mine)
        assert number in app.claims
