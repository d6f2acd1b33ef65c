"""`LinePanel`: a fixed-size panel of text, drawn line by line, so new text repaints only the lines that differ.

WHY (issue 14: every session draws every change it shows): the queue's "why" panel changes one
line at a time (the "Changed under you" notice comes and goes, a lease's minutes count down), yet a
Static updated with new text renders all of it again (every line wrapped and styled) and marks the
whole widget dirty, so the compositor repaints all eight rows of it. Here each logical line of the
text is rendered on its own, through the same Visual code a Static uses (the same cells), and kept
by what it says; `update` compares the new lines with those drawn and refreshes just the rows that
changed (`refresh(Region)`: with tui.cropped_compositor only those rows are rendered).

For fixed-height parts only (CSS gives the height; `update`'s `layout` is accepted and ignored, as
a Static's `layout=False`). Text selected with the mouse is drawn as a Static draws it.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from tui.repaint import look

#: rendered lines kept, by what they say (a few screens' worth of notices and leases)
LINE_CACHE = 64


def _lines(content: Any) -> list[Any]:
    """The content's logical lines (Text keeps its styles; anything else is plain text)."""
    if isinstance(content, Text):
        return list(content.split("\n", allow_blank=True))
    if isinstance(content, Content):
        return list(content.split("\n", allow_blank=True))
    return [Content(line) for line in str(content).split("\n")]


class LinePanel(Widget):
    """Shows text like a Static with a fixed height; repaints only the rows whose line changed."""

    def __init__(self, content: Any = "", **kw: Any) -> None:
        super().__init__(**kw)
        self._content: Any = content
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int] | None = None  # (width, height) the strips were built at
        self._line_strips: dict[tuple, list[Strip]] = {}

    def render(self) -> Any:
        """What it shows (the selection's text and a full redraw read it)."""
        return self._content

    def update(self, content: Any = "", *, layout: bool = False) -> None:  # noqa: ARG002 - as Static's
        """Show `content`; refresh only the rows that now draw differently."""
        self._content = content
        if self._built_for is None or self._built_for != tuple(self.size):
            self.refresh()  # not drawn at this size yet: render_line builds it all
            return
        old, new = self._strips, self._build()
        self._strips = new
        width = self.size.width
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new) or old[y] != new[y]:
                self.refresh(Region(0, y, width, 1))

    def _build(self) -> list[Strip]:
        width, height = self.size
        style = self.visual_style
        strips: list[Strip] = []
        for line in _lines(self._content):
            if len(strips) >= height:
                break
            key = (look(line), width)
            got = self._line_strips.get(key)
            if got is None:
                got = Visual.to_strips(self, visualize(self, line, markup=False), width, None, style)
                self._line_strips[key] = got
                if len(self._line_strips) > LINE_CACHE:
                    del self._line_strips[next(iter(self._line_strips))]
            strips.extend(got)
        self._built_for = (width, height)
        return strips[:height]

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:
            return super().render_line(y)  # the whole text, with the selection drawn on it
        if self._built_for != tuple(self.size):
            self._strips = self._build()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        self._line_strips.clear()  # a theme or focus change: every line's colours
        self._built_for = None
        super().notify_style_update()
