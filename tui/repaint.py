"""Repaint only the parts of a screen whose content changed (issue 14: every session gets every change).

A live screen redraws from a fresh read; most of what it shows is the same as before. Updating a
Static with equal content still lays it out again (and with `layout=True` the whole screen), so a
screen keeps what each part shows now and skips the update when the new content looks the same.
Content and Text compare by their plain text alone, so the comparison key includes the spans.
"""
from __future__ import annotations

from math import ceil
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.content import Content
from textual.scrollbar import ScrollBar


def look(content: Any) -> Any:
    """A key that differs whenever two pieces of content would be drawn differently."""
    if isinstance(content, Content):
        return ("content", content.plain, tuple(content.spans))
    if isinstance(content, Text):
        return ("text", content.plain, str(content.style), tuple(content.spans), content.justify, content.no_wrap)
    if isinstance(content, (tuple, list)):
        return tuple(look(c) for c in content)
    return content


class Painted:
    """What each part of one screen shows now (by a name the screen chooses)."""

    def __init__(self) -> None:
        self._shown: dict[str, Any] = {}

    def changed(self, part: str, content: Any) -> bool:
        """True (and remembered) when `content` differs from what `part` shows now."""
        key = look(content)
        if part in self._shown and self._shown[part] == key:
            return False
        self._shown[part] = key
        return True

    def put(self, widget: Any, content: Any, *, layout: bool = True) -> bool:
        """Update a Static (or anything with `update(content, layout=…)`) only when its content
        changed; `layout=False` where the part's size cannot change (a one-line title, a fixed
        panel), so the update repaints that widget alone. True if it was updated."""
        if not self.changed(f"#{widget.id}" if widget.id else str(id(widget)), content):
            return False
        widget.update(content, layout=layout)
        return True

    def forget(self) -> None:
        """Repaint everything next time (the screen was rebuilt or resized)."""
        self._shown.clear()


def fill_rows(table: Any, rows: list[tuple[str, list[Any]]]) -> bool:
    """Show `rows` ((key, cells) each) in a DataTable, changing only what differs. The same keys in
    the same order: the changed cells are updated in place (the table repaints; nothing is laid
    out again, and the cursor stays). Otherwise the table is filled again. True if it was refilled.

    WHY: clearing and refilling a table on every live change resized it and laid the whole screen
    out again, which cost the wallboard most of its ~30 ms a redraw (issue 14)."""
    if [k for k, _ in rows] != [rk.value for rk in table.rows]:
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        return True
    columns = table.ordered_columns
    for key, cells in rows:
        for column, new, old in zip(columns, cells, table.get_row(key), strict=True):
            if look(new) != look(old):
                wider = cell_len(new.plain if isinstance(new, Text) else str(new)) > column.content_width
                table.update_cell(key, column.key, new, update_width=wider)
    return False


def scrollbar_cells(bar: ScrollBar, rows: int) -> list[Segment]:
    """The cells a vertical scrollbar draws for `rows` rows, by Textual's own arithmetic
    (ScrollBar._render_bar, ScrollBarRender.render_bar): equal lists, the same bar on screen."""
    window = bar.window_size if bar.window_size < rows else 0
    return bar.renderer.render_bar(size=bar.size.height, virtual_size=ceil(rows), window_size=ceil(window),
                                   position=bar.position, thickness=bar.thickness, vertical=True).segments
