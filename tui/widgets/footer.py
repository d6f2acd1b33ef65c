"""The key footer: one line that fits the terminal, whatever its width.

Textual's compact Footer lays every key out in a row and lets the right-docked palette key cover
what does not fit: at 80 columns that left stray letters ("▏^p Palettew") and hid `q` and `F1`.
`KeyFooter` reserves room first for what must always show (quit, help, the palette, which lists
every key), then fills what is left with the screen's own keys in their binding order, leaving
out whole keys, never letters. It redraws only when the keys or the width change (a form's
focus moves keep the same keys: no layout per Enter), or when the change feed loses or gets back the
database: then every screen's footer says "reconnecting" at its left (the app redraws them).
"""
from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

#: actions shown on every screen, at the right: quit and help and the palette
ALWAYS = ("app.quit", "quit", "help", "app.help", "command_palette", "app.command_palette")
ALWAYS_LABEL = {"command_palette": "Palette", "app.command_palette": "Palette"}
GAP = 2


def key_items(screen: Screen) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the screen's keys, the always-shown keys) as (key text, description), each action once; the
    screen's `FOOTER_FIRST` binding ids lead, the rest keep their binding order."""
    app = screen.app
    own: list[tuple[str, str, str]] = []
    always: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for _key, active in screen.active_bindings.items():
        b: Binding = active.binding
        if not active.enabled or not b.description:
            continue
        action = b.action
        keys = b.key_display or app.get_key_display(b)
        if action in ALWAYS:
            name = ALWAYS_LABEL.get(action, b.description)
            if name not in always or action == "app.quit" and b.key == "q":
                always[name] = (keys, name)  # a screen's own `q` is the one to show over ctrl+q
            continue
        if not b.show or action in seen:
            continue
        seen.add(action)
        own.append((keys, b.description, b.id or ""))
    if "Quit" not in always:
        always["Quit"] = ("^q", "Quit")  # ctrl+q quits everywhere (the app's binding)
    first = list(getattr(screen, "FOOTER_FIRST", ()))  # a screen's most used keys, by binding id
    own.sort(key=lambda item: first.index(item[2]) if item[2] in first else len(first))
    return [(k, d) for k, d, _id in own], [always[k] for k in ("Quit", "Help", "Palette") if k in always]


def fit(own: list[tuple[str, str]], always: list[tuple[str, str]], width: int) -> tuple[list, list]:
    """The keys that fit in `width` cells: every always-key, then the screen's keys in order."""
    def cells(items: list[tuple[str, str]]) -> int:
        return sum(len(k) + 1 + len(d) for k, d in items) + GAP * max(0, len(items) - 1)

    room = width - 2 - cells(always) - GAP
    shown: list[tuple[str, str]] = []
    for item in own:
        if cells([*shown, item]) > room:
            break
        shown.append(item)
    return shown, always


#: shown at the left of every screen's footer while the change feed cannot reach the database
RECONNECTING_NOTICE = "⚠ reconnecting to the database…"


def feed_notice(app: object) -> str:
    """What the footer says about the change feed: nothing while it is live (the app's `feed_state`)."""
    return RECONNECTING_NOTICE if getattr(app, "feed_state", "") == "reconnecting" else ""


class KeyFooter(Static):
    COMPONENT_CLASSES = {"keyfooter--key"}
    DEFAULT_CSS = """
    KeyFooter { dock: bottom; height: 1; background: $footer-background; color: $footer-description-foreground; }
    KeyFooter > .keyfooter--key { color: $footer-key-foreground; text-style: bold; }
    """

    def __init__(self, **kw: object) -> None:
        super().__init__("", **kw)  # type: ignore[arg-type]
        self._drawn: tuple | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.redraw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen) -> None:
        self.redraw()

    def on_resize(self, _event: events.Resize) -> None:
        self.redraw()

    @property
    def shown(self) -> list[tuple[str, str]]:
        """What the footer shows now, left to right (for tests and the help screen)."""
        if self._drawn is None:
            return []
        shown, always, _w, _notice = self._drawn
        return [*shown, *always]

    def redraw(self) -> None:
        width = self.size.width or self.app.size.width
        notice = feed_notice(self.app)
        own, always = key_items(self.screen)
        shown, always = fit(own, always, width - (len(notice) + GAP if notice else 0))
        drawn = (tuple(shown), tuple(always), width, notice)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        text = Text(" ", no_wrap=True, overflow="crop")
        key_style = self.get_component_rich_style("keyfooter--key", partial=True)
        if notice:
            text.append(notice, style="bold reverse")
            text.append(" " * GAP)
        for i, (k, d) in enumerate(shown):
            if i:
                text.append(" " * GAP)
            text.append(k, style=key_style)
            text.append(" " + d)
        right = Text(no_wrap=True)
        for i, (k, d) in enumerate(always):
            if i:
                right.append(" " * GAP)
            right.append(k, style=key_style)
            right.append(" " + d)
        pad = max(GAP, width - 1 - text.cell_len - right.cell_len)
        text.append(" " * pad)
        text.append_text(right)
        self.update(text)
