"""Messages shared by every screen. The app owns the one change feed and tells screens."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from core.models import Event


class StoreChanged(Message):
    """Another session (or this one) committed: `events` are the new events, oldest first.

    The app posts this to every screen on its stack after each change-feed batch. A screen
    refreshes only what the events touch, keeping its cursor on the same item.
    """

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class RulesReady(Message):
    """The rules file has been validated, just after the first paint (see OrderqApp.first_paint):
    what depends on them (the queue's at-risk marks) can be drawn now."""


class OpenScreen(Message):
    """A screen asks the app to open another by name (`tui.screen_registry.SCREENS`): screens never import
    each other or the app, so navigation runs up as a message. `replace` closes the asking screen
    first (a new return's form gives way to the return it made)."""

    def __init__(self, name: str, *args: object, replace: bool = False) -> None:
        super().__init__()
        self.name = name
        self.args = args
        self.replace = replace


def open_screen(widget: object, name: str, *args: object, replace: bool = False) -> None:
    """Post OpenScreen to the app (not bubbled from the widget: a closing screen may be gone by then)."""
    app = widget.app  # type: ignore[attr-defined]
    app.post_message(OpenScreen(name, *args, replace=replace))


def go_back(widget: object) -> None:
    """A screen's Esc: the app's `leave_screen` (to the screen under it, or from a session's first
    screen to the queue); a host without one (the tests' hosts) pops a screen that has one under it."""
    app = widget.app  # type: ignore[attr-defined]
    leave = getattr(app, "leave_screen", None)
    if leave is not None:
        leave()
    elif len(app.screen_stack) > 1:
        app.pop_screen()
