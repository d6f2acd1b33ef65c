"""The queue's columns and their headings: what a drawn row's cells are, and how they fit a width
(split from queue_view.py, which draws the rows)."""
from __future__ import annotations

from textual.widgets import Static

from core.plain_text import printable
from tui.widgets.columns import fit_columns

# (key, heading, width, right-aligned); the customer column takes what is left
COLUMNS: list[tuple[str, str, int, bool]] = [
    ("cls", "cls", 3, False), ("number", "number", 9, False), ("customer", "customer", 0, False),
    ("tier", "tier", 4, False), ("channel", "channel", 7, False), ("type", "type", 9, False),
    ("value", "value", 11, True), ("due", "due", 15, False), ("state", "state", 11, False),
    ("claimed", "claimed by", 10, False),
]
MIN_CUSTOMER = 12

#: dropped in this order when the terminal is too narrow for every column
DROP_FIRST = ("type", "channel", "tier", "claimed")


def layout(width: int) -> list[tuple[str, str, int, bool]]:
    return fit_columns(COLUMNS, width, DROP_FIRST, pad=1, min_flex=MIN_CUSTOMER)  # one space before each


def fit(text: str, width: int, right: bool = False) -> str:
    """One cell of a drawn row: user text's controls as escapes (`printable`), cut or padded to width."""
    text = printable(text, multiline=False)
    if len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)


def header_text(width: int) -> str:
    return "".join(" " + fit(h, w, r) for _k, h, w, r in layout(width))


class QueueHeader(Static):
    """The column headings; QueueView sets them to its own width when it is resized."""

