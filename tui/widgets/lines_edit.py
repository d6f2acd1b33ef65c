"""Editing the lines of a claimed order in a dialog, with the same checks as entry (the lines grid),
saved through the service with the order's version so a change made meanwhile is not overwritten."""
from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from core.errors import OrderqError
from core.models import Order
from db.service import Desk
from tui.widgets.footer import KeyFooter
from tui.widgets.lines_grid import LinesGrid


def pct(d: Decimal) -> str:
    """A discount as a rep types it: "" for none, no trailing zeros."""
    return "" if d == 0 else f"{d:.2f}".rstrip("0").rstrip(".")


class LinesEdit(ModalScreen[Order | None]):
    """Edit the lines of a claimed order, with the same checks as entry; Ctrl+S saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save lines", id="order-lines.save", priority=True),
        Binding("escape", "cancel", "Discard", id="order-lines.cancel"),
    ]
    DEFAULT_CSS = """
    LinesEdit { align: center middle; }
    LinesEdit > Vertical { width: 96%; height: 80%; border: round $accent; background: $surface; }
    LinesEdit .edit-help { color: $text-muted; height: 1; }
    """

    def __init__(self, desk: Desk, order: Order, token: str | None) -> None:
        super().__init__()
        self.desk = desk
        self.order = order
        self.token = token

    def compose(self) -> ComposeResult:
        lines = [(ln.sku, str(ln.qty), pct(ln.discount_pct)) for ln in self.order.lines]
        with Vertical():
            yield LinesGrid(self.desk.catalog.products(), lines, id="edit-lines")
            yield Label("Enter next field · Ctrl+D delete line · F4 list SKUs · Ctrl+S save · Esc discard",
                        classes="edit-help")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = f"Lines of {self.order.number}"
        grid = self.query_one(LinesGrid)
        grid.rows[0].qty_input.focus() if self.order.lines else grid.focus_first()

    def on_lines_grid_done(self, _event: LinesGrid.Done) -> None:
        self.action_save()

    def action_save(self) -> None:
        grid = self.query_one(LinesGrid)
        bad = grid.validate()
        if bad is not None:
            bad.focus()
            self.app.bell()
            return
        try:
            order = self.desk.orders.set_lines(self.order.number, grid.line_inputs(), token=self.token,
                                               expected_version=self.order.version)
        except OrderqError as e:
            if (e.field or "").startswith("lines."):
                w = grid.show_error(e.field or "", e.message)
                if w is not None:
                    w.focus()
            else:
                self.notify(e.message, severity="error", title="Lines not saved")
            return
        self.dismiss(order)

    def action_cancel(self) -> None:
        from tui.widgets.note_dialog import Confirm

        grid = self.query_one(LinesGrid)
        now = [(li.sku, str(li.qty), str(li.discount_pct)) for li in grid.line_inputs()]
        was = [(ln.sku, str(ln.qty), pct(ln.discount_pct) or "0") for ln in self.order.lines]
        if now == was:
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(Confirm("Discard your changes to the lines?", "Enter: discard", "Esc: keep editing"),
                             answered)
