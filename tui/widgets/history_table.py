"""An entity's history from the event log, oldest first, newest selected: the order and return
screens show it the same way (`l` toggles it)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual.widgets import DataTable

from core.models import Event
from tui.plain import plain


class HistoryTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns(Text("When (UTC)"), Text("Who"), Text("What"))  # not markup (tui.widgets.columns)

    def show(self, events: Iterable[Event], describe: Callable[[Event], str]) -> None:
        self.clear()
        n = 0
        for e in events:
            self.add_row(Text(f"{e.at:%Y-%m-%d %H:%M:%S}"), plain(e.actor, multiline=False),
                         plain(describe(e), multiline=False))
            n += 1
        if n:
            self.move_cursor(row=n - 1)
