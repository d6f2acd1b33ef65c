"""F1: the keys of the screen below, as they are now (after any keymap file), with their ids."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.plain import plain


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    @classmethod
    def for_screen(cls, screen: Screen) -> "HelpScreen":
        """Rows (keys, what it does, binding id) from the screen's active bindings, app keys last."""
        app = screen.app
        grouped: dict[tuple[str, str], list[str]] = {}
        order: list[tuple[str, str]] = []
        app_rows: list[tuple[str, str]] = []
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description or not b.id:
                continue  # Textual's own unnamed scrolling/focus keys are noise here
            ident = (b.description, b.id or "")
            if ident not in grouped:
                grouped[ident] = []
                (app_rows if active.node is app else order).append(ident)
            grouped[ident].append(b.key_display or app.get_key_display(b))
        rows = [(", ".join(grouped[i]), i[0], i[1]) for i in order + app_rows]
        name = getattr(screen, "SCREEN_NAME", None) or type(screen).__name__
        return cls(f"Keys: {name}", rows)

    def compose(self) -> ComposeResult:
        table = Table(expand=True, box=None, show_edge=False, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        table.add_column("id (for keys.toml)", style="dim", no_wrap=True)
        for keys, desc, ident in self.rows:
            table.add_row(plain(keys), plain(desc), plain(ident))  # a keymap file's text, not markup
        with VerticalScroll(id="help-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "escape closes · remap in ~/.config/orderq/keys.toml"
            yield Static(table, id="help-table")

    async def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
