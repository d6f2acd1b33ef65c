"""User text on screen as text: never markup, never an action, never a terminal escape.

Static, Label, notify() and DataTable's str cells all parse markup. A note `x [/]` then raises
MarkupError and the app exits; `[@click=app.quit]` becomes a live action; an ESC byte goes
straight to the terminal (Rich and Textual strip only BEL, BS, VT, FF and CR). Escaping with
`rich.markup.escape` is not enough for Textual's parser (`[/b@x`, a trailing backslash), so user
text never goes into a markup string. Instead:

- `plain(s)`: a Rich `Text` of the text, for a Static, a Label or a DataTable cell;
- `styled(template, **values)`: house markup with `$name` slots, filled as literal text
  (Textual's template variables), for a line that mixes styling and user text;
- `PlainNotify`: the app's notify() shows every toast as text.

All three show control characters as escapes first (`core.plain_text.printable`).
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content

from core.plain_text import printable


def plain(text: object, *, multiline: bool = True, **text_kw: Any) -> Text:
    """`text` shown as it is; `multiline=False` keeps it on one line (a table cell)."""
    return Text(printable("" if text is None else str(text), multiline=multiline), **text_kw)


def styled(template: str, **values: object) -> Content:
    """House markup `template` (ours, trusted) with each `$name` replaced by a value, as plain text."""
    return Content.from_markup(template, **{k: printable("" if v is None else str(v)) for k, v in values.items()})


class PlainNotify:
    """Mixed into an App: toasts carry user text (who did what, a refused value), so they are text."""

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = True) -> None:
        super().notify(printable(str(message)), title=printable(str(title)),  # type: ignore[misc]
                       severity=severity, timeout=timeout, markup=False)
