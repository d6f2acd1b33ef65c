"""What an unknown or disabled user sees instead of the queue: one screen saying why, any key closes it,
exit status 2 (tui.main starts it instead of the app)."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from tui.plain import PlainNotify, styled


class RefusalScreen(Screen[None]):
    BINDINGS = [Binding("escape,q,enter", "app.quit", "Close", id="refusal.close")]
    DEFAULT_CSS = """
    RefusalScreen { align: center middle; }
    RefusalScreen > Static { width: 70; height: auto; border: heavy $error; padding: 1 2; }
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Static(styled("[b]orderq: access refused[/b]\n\n$message\n\nPress any key to close.", message=self.message))

    def on_key(self) -> None:
        self.app.exit(2, return_code=2)


class RefusalApp(PlainNotify, App[int]):
    """What an unknown or disabled user sees instead of the queue (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def on_mount(self) -> None:
        self.push_screen(RefusalScreen(self.message))
        self.set_timer(60, lambda: self.exit(2, return_code=2))  # nobody at the keyboard: do not hold the session open

    def action_quit(self) -> None:  # type: ignore[override]
        self.exit(2, return_code=2)
