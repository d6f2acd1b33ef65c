"""Every binding has an id and a description, and the command palette lists (and runs) them."""
from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import OptionList

from tests.tui_host import HostApp, press
from tests.tui_order.test_order import SIZE, first_queued
from tui.screens.entry import EntryScreen
from tui.widgets.entry_result import EntryResult
from tui.screens.order import LinesEdit, OrderScreen
from tui.widgets.lines_grid import LinesGrid
from tui.widgets.note_dialog import Confirm, NoteDialog
from tui.widgets.prompt_list import PromptList, PromptRows


def test_every_binding_has_an_id_and_description() -> None:
    ids = []
    for cls in (OrderScreen, EntryScreen, EntryResult, LinesEdit, LinesGrid, PromptList, NoteDialog, Confirm):
        for b in cls.BINDINGS:
            assert b.id, f"{cls.__name__}: {b.key} has no id"
            assert b.description, f"{cls.__name__}: {b.id} has no description"
            ids.append(b.id)
    assert len(ids) == len(set(ids)), "binding ids must be unique"
    assert {"order.tick", "order.release", "order.hold", "entry.submit", "entry.prompt", "prompt.pick"} <= set(ids)
    assert PromptRows.can_focus is False


async def palette_hits(pilot, app, query: str) -> list[str]:  # noqa: ANN001
    await press(pilot, "ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await press(pilot, query)
    await pilot.pause(0.3)
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_palette_lists_and_runs_order_actions(desk_for, desk_db) -> None:
    desk = desk_for(desk_db, "alice")
    number = first_queued(desk_db)
    app = HostApp(desk, lambda d: OrderScreen(d, number, None))
    async with app.run_test(size=SIZE) as pilot:
        hits = await palette_hits(pilot, app, "hold")
        assert any("Hold" in h for h in hits), hits
        await press(pilot, "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptList)  # the palette ran the same action as `h`
        await press(pilot, "escape")
        hits = await palette_hits(pilot, app, "tick step 3")
        assert any("Tick" in h for h in hits), hits


async def test_palette_lists_entry_actions(desk_for, desk_db) -> None:
    desk = desk_for(desk_db, "alice")
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        hits = await palette_hits(pilot, app, "submit")
        assert any("Submit" in h for h in hits), hits


async def test_keys_remap_by_id(desk_for, desk_db) -> None:
    """A keymap (id → keys), as the config file gives the app, moves an action to another key."""
    desk = desk_for(desk_db, "alice")
    number = first_queued(desk_db)
    app = HostApp(desk, lambda d: OrderScreen(d, number, None))
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"order.claim": "f9"})
        await pilot.pause()
        await press(pilot, "c")
        assert desk.orders.get(number).claimed_by is None
        await press(pilot, "f9")
        assert desk.orders.get(number).claimed_by == "alice"

