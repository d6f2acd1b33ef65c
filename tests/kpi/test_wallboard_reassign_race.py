"""Two supervisors reassign the same at-risk order: the one whose form was open while the other
committed is told the order changed, in the form, and the first reassignment stands."""
from __future__ import annotations

from textual.widgets import Label

from db.service import Desk
from tests.kpi.test_wallboard import board, cells, type_text, until
from tui.screens.wallboard import WallboardScreen
from tui.widgets.form_dialog import FormDialog


async def test_a_rival_reassign_while_the_form_is_open_is_a_conflict(kpi_day, clock) -> None:  # noqa: ANN001
    path, n = kpi_day
    admin = Desk.open(path, None, clock=clock)
    admin.users.add("sue", "supervisor")
    admin.store.close()
    bob = Desk.open(path, "bob", clock=clock)
    bob.orders.claim(n["O6"])
    bob.store.close()
    async with board(path, "sam", clock, size=(160, 50)) as (app, pilot):
        items = app.screen.query_one("#items")
        items.move_cursor(row=items.get_row_index(n["O6"]))
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, FormDialog))
        sue = Desk.open(path, "sue", clock=clock)  # another supervisor, another session, meanwhile
        try:
            sue.orders.reassign(n["O6"], "alice")
        finally:
            sue.store.close()
        await type_text(pilot, "bob")
        await pilot.press("enter", "enter")
        await until(pilot, lambda: "changed since you opened it" in str(app.screen.query_one("#e-form", Label).render()))
        assert isinstance(app.screen, FormDialog)  # the form stays open, saying why
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
        await until(pilot, lambda: "with alice" in cells(app, "items", n["O6"]))
