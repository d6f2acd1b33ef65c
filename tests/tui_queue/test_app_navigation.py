"""The app shell across screens: where each role lands, what the palette finds, who picks the theme."""
from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import OptionList

from tests.helpers import until
from tests.tui_host import press

SIZE = (120, 35)


async def palette_hits(pilot, app, query: str) -> list[str]:  # noqa: ANN001
    await press(pilot, "ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await press(pilot, query)
    await pilot.pause(0.3)
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_each_role_lands_on_its_own_screen(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """carol (returns) used to land on the orders queue; a rep and a supervisor start on the queue."""
    for user, want in (("carol", "ReturnsScreen"), ("alice", "QueueScreen"), ("sam", "QueueScreen")):
        app = make_app(queue_db, user)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: type(app.screen).__name__ == want)
            assert type(app.screen).__name__ == want, user
    app = make_app(queue_db, "carol", screen="queue")  # --screen still wins
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "QueueScreen"


async def test_palette_on_the_queue_finds_other_screens_actions(queue_db: Path, make_app) -> None:  # noqa: ANN001
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("wallboard" in t for t in titles if "—" in t)  # alice may not open it: not offered
        hits = await palette_hits(pilot, app, "hold")
        assert any(h.startswith("Hold — on an order") for h in hits), hits
        await press(pilot, "enter")  # choosing it says where it is and how to get there
        await until(pilot, lambda: any("Hold is on an order" in n.message for n in app._notifications))
        assert any("enter on an order in the queue" in n.message for n in app._notifications)


async def test_palette_lists_each_key_of_the_order_and_entry_screens_once(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """The order and entry screens added their own palette provider on top of the app's: every key twice."""
    app = make_app(queue_db)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "OrderScreen")
        hits = await palette_hits(pilot, app, "release")
        assert len([h for h in hits if h.split("\n")[0] == "Release"]) == 1, hits
        await press(pilot, "escape")
        await press(pilot, "escape")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        await press(pilot, "n")
        await until(pilot, lambda: type(app.screen).__name__ == "EntryScreen")
        hits = await palette_hits(pilot, app, "submit")
        assert len([h for h in hits if h.split("\n")[0] == "Submit"]) == 1, hits


async def test_theme_option_wins_on_the_wallboard(queue_db: Path, make_app) -> None:  # noqa: ANN001
    """--theme used to be overridden by the wallboard's own choice; without it the board is high-contrast
    and leaving it gives the default back (one place chooses: OrderqApp.theme_for)."""
    app = make_app(queue_db, "sam", screen="wallboard", theme="green-screen")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        await pilot.pause()
        assert app.theme == "green-screen"
    app = make_app(queue_db, "sam", screen="wallboard")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        assert app.theme == "wallboard-hc"
        await press(pilot, "escape")
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen")
        assert app.theme == "orderq-dark"
        await press(pilot, "w")
        await until(pilot, lambda: type(app.screen).__name__ == "WallboardScreen")
        assert app.theme == "wallboard-hc"
