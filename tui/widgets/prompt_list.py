"""The F4 prompt list: a searchable pick-list of valid values (customers, SKUs, reasons).

The green-screen convention reps already know: F4 on a field lists what may go in it; type to
narrow, up/down to move, enter picks, escape cancels. The list is drawn as a window over the
matches, so a few thousand items (every customer, every SKU) filter and paint in milliseconds.
"""
from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label

from core.plain_text import printable
from tui.plain import plain


def matches(haystacks: Sequence[str], values: Sequence[str], query: str) -> list[int]:
    """Indexes of items whose value or label contains every word of `query` (case-insensitive).

    Items whose value starts with the query come first; otherwise the original order is kept.
    """
    words = query.casefold().split()
    if not words:
        return list(range(len(haystacks)))
    hits = [i for i, h in enumerate(haystacks) if all(w in h for w in words)]
    q = query.strip().casefold()
    first = [i for i in hits if values[i].casefold().startswith(q)]
    if not first or len(first) == len(hits):
        return hits
    lead = set(first)
    return first + [i for i in hits if i not in lead]


class PromptRows(Widget):
    """Only the visible rows of the matches are ever drawn."""

    COMPONENT_CLASSES = {"prompt-rows--cursor", "prompt-rows--value"}
    DEFAULT_CSS = """
    PromptRows { height: 1fr; }
    PromptRows > .prompt-rows--cursor { background: $accent; color: $text; text-style: bold; }
    PromptRows > .prompt-rows--value { color: $text-accent; }
    """
    cursor: reactive[int] = reactive(0)

    def __init__(self, items: Sequence[tuple[str, str]], **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.items = items
        self.shown: list[int] = list(range(len(items)))
        self.top = 0
        self.value_width = min(24, max((len(v) for v, _ in items), default=0))

    def show(self, shown: list[int], cursor: int = 0) -> None:
        self.shown = shown
        self.top = 0
        self.cursor = min(cursor, max(0, len(shown) - 1))
        self.refresh()

    def move(self, delta: int) -> None:
        if self.shown:
            self.cursor = max(0, min(len(self.shown) - 1, self.cursor + delta))

    def watch_cursor(self, _old: int, _new: int) -> None:
        self.refresh()

    @property
    def page(self) -> int:
        return max(1, self.size.height)

    def _window(self) -> range:
        h = self.page
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + h:
            self.top = self.cursor - h + 1
        return range(self.top, min(self.top + h, len(self.shown)))

    def render(self) -> Text:
        if not self.shown:
            return Text("no match", style="dim italic")
        cur = self.get_component_rich_style("prompt-rows--cursor")
        val = self.get_component_rich_style("prompt-rows--value")
        out = Text(no_wrap=True, overflow="ellipsis")
        w = self.value_width
        for n, idx in enumerate(self._window()):
            if n:
                out.append("\n")
            value, label = self.items[self.shown[idx]]
            line = Text(no_wrap=True)
            line.append(f"{printable(value, multiline=False):<{w}}", style=val)
            if label and label != value:
                line.append("  " + printable(label, multiline=False))
            if idx == self.cursor:
                line.pad_right(max(0, self.size.width - line.cell_len))
                line.stylize(cur)
            out.append_text(line)
        return out

    @property
    def value(self) -> str | None:
        if not self.shown:
            return None
        return self.items[self.shown[self.cursor]][0]

    def on_click(self, event: events.Click) -> None:
        row = self.top + event.y
        if 0 <= row < len(self.shown):
            self.cursor = row
            self.screen.action_pick()  # type: ignore[attr-defined]


class PromptList(ModalScreen[str | None]):
    """`PromptList(title, [(value, label), ...], initial="")` → the picked value, or None on escape."""

    CSS_PATH = "prompt_list.tcss"
    BINDINGS = [
        Binding("enter", "pick", "Pick", id="prompt.pick", priority=True),
        Binding("escape", "cancel", "Cancel", id="prompt.cancel", priority=True),
        Binding("up", "move(-1)", "Up", id="prompt.up", show=False, priority=True),
        Binding("down", "move(1)", "Down", id="prompt.down", show=False, priority=True),
        Binding("pageup", "page(-1)", "Page up", id="prompt.page-up", show=False, priority=True),
        Binding("pagedown", "page(1)", "Page down", id="prompt.page-down", show=False, priority=True),
    ]

    def __init__(self, title: str, items: Sequence[tuple[str, str]], initial: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.items = list(items)
        self.values = [v for v, _ in self.items]
        self.hay = [f"{v}\t{lbl}".casefold() for v, lbl in self.items]
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(plain(self.title_text, multiline=False), id="prompt-title")
            yield Input(self.initial, placeholder="type to filter", id="prompt-filter")
            yield PromptRows(self.items, id="prompt-rows")
            yield Label("", id="prompt-count")

    def on_mount(self) -> None:
        self.query_one("#prompt-box").border_title = plain(self.title_text, multiline=False)
        # as tall as the list needs, up to what the terminal allows
        self.rows.styles.height = max(3, min(len(self.items), self.app.size.height - 14))
        self._filter(self.initial)
        self.query_one("#prompt-filter", Input).focus()

    @property
    def rows(self) -> PromptRows:
        return self.query_one(PromptRows)

    def _filter(self, text: str) -> None:
        shown = matches(self.hay, self.values, text)
        cursor = 0
        t = text.strip().casefold()
        if t:
            for n, i in enumerate(shown[:50]):
                if self.values[i].casefold() == t:
                    cursor = n
                    break
        self.rows.show(shown, cursor)
        total = len(self.items)
        self.query_one("#prompt-count", Label).update(
            f"{len(shown):,} of {total:,}  ·  ↑↓ move  Enter pick  Esc cancel"
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pick()

    def action_move(self, delta: int) -> None:
        self.rows.move(delta)

    def action_page(self, direction: int) -> None:
        self.rows.move(direction * self.rows.page)

    def action_pick(self) -> None:
        value = self.rows.value
        if value is None:
            self.app.bell()
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
