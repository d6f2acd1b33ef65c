"""One row of the lines grid (tui/widgets/lines_grid.py): SKU, quantity and discount inputs, the priced
details beside them, or what is wrong with the row. The grid moves between rows; a row checks itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from core.errors import OrderqError
from core.lines import parse_discount, parse_qty
from core.models import Product
from core.money import fmt, line_amount, price_text
from db.service.orders import LineInput
from tui.widgets.input_aids import put

if TYPE_CHECKING:
    from tui.widgets.lines_grid import LinesGrid


@dataclass
class RowState:
    sku: str = ""
    product: Product | None = None


class LineRow(Horizontal):
    """One order line on one screen row: three inputs, then the priced details, or what is wrong."""

    DEFAULT_CSS = """
    LineRow { height: 1; }
    LineRow.-error .ln-info { color: $error; text-style: bold; }
    LineRow Input.-invalid { color: $error; text-style: bold; }
    """

    def __init__(self, grid: "LinesGrid", n: int, sku: str = "", qty: str = "", disc: str = "") -> None:
        super().__init__()
        self.grid = grid
        self.n = n
        self.state = RowState()
        self._init = (sku, qty, disc)
        self.errors: dict[str, str] = {}
        self.info_text = ""
        # built once and kept: a DOM query per key press is measurable
        self.no_label = Label(f"{n:>2}", classes="ln-no")
        first = n == 1  # only the first line carries hints; the header names the columns
        self.sku_input = Input(sku, placeholder="SKU · F4" if first else "", compact=True, classes="ln-sku",
                               suggester=grid.suggester, select_on_focus=False)
        self.qty_input = Input(qty, placeholder="qty" if first else "", compact=True, classes="ln-qty",
                               select_on_focus=False)
        self.disc_input = Input(disc, placeholder="0" if first else "", compact=True, classes="ln-disc",
                                select_on_focus=False)
        self.info_label = Label("", classes="ln-info")
        self.amount_label = Label("", classes="ln-amount")

    def compose(self) -> ComposeResult:
        yield self.no_label
        yield self.sku_input
        yield self.qty_input
        yield self.disc_input
        yield self.info_label
        yield self.amount_label

    def on_mount(self) -> None:
        if self._init[0]:
            self.set_sku(self._init[0])
        self.update_amount()

    # ---- fields ------------------------------------------------------------------------
    @property
    def blank(self) -> bool:
        return not (self.sku_input.value.strip() or self.qty_input.value.strip() or self.disc_input.value.strip())

    def field_of(self, widget: Input) -> str:
        return "sku" if widget is self.sku_input else "qty" if widget is self.qty_input else "discount"

    @property
    def error_text(self) -> str:
        return "  ".join(f"⚠ {m}" for m in self.errors.values())

    def set_info(self, text: str) -> None:
        self.info_text = text
        self._show_info()

    def _show_info(self) -> None:
        put(self.info_label, self.error_text or self.info_text)

    def set_error(self, field: str, message: str | None) -> None:
        """Show (or clear) a refusal next to the line, in place of its details, and mark the field."""
        if message:
            self.errors[field] = message
        else:
            if field not in self.errors:
                return
            self.errors.pop(field, None)
        widget = {"sku": self.sku_input, "qty": self.qty_input, "discount": self.disc_input}.get(field)
        if widget is not None:
            widget.set_class(bool(message), "-invalid")
        self.set_class(bool(self.errors), "-error")
        self._show_info()

    def set_sku(self, sku: str) -> Product | None:
        prod = self.grid.product(sku)
        self.state.product = prod
        if prod is None:
            self.set_info("")
            return None
        if self.sku_input.value != prod.sku:
            with self.sku_input.prevent(Input.Changed):
                self.sku_input.value = prod.sku
        notes = [f"{prod.description}", f"@ {price_text(prod.price)}", f"{prod.stock} in stock"]
        if not prod.active:
            notes.append("INACTIVE")
        self.set_info(" · ".join(notes))
        self.set_error("sku", None)
        self.update_amount()
        return prod

    def check_qty(self) -> int | None:
        text = self.qty_input.value
        try:
            qty = parse_qty(text)
        except OrderqError as e:
            self.set_error("qty", e.message if text.strip() or self.sku_input.value.strip() else None)
            return None
        self.set_error("qty", None)
        prod = self.state.product
        if prod is not None and qty > prod.stock:
            self.set_info(f"{prod.description} · @ {price_text(prod.price)} · only {prod.stock} in stock: stock hold")
        return qty

    def check_disc(self) -> Decimal | None:
        try:
            disc = parse_discount(self.disc_input.value)
        except OrderqError as e:
            self.set_error("discount", e.message)
            return None
        self.set_error("discount", None)
        return disc

    def amount(self) -> Decimal | None:
        prod = self.state.product
        if prod is None:
            return None
        try:
            return line_amount(parse_qty(self.qty_input.value), prod.price, parse_discount(self.disc_input.value))
        except OrderqError:
            return None

    def update_amount(self) -> None:
        amt = self.amount()
        put(self.amount_label, fmt(amt) if amt is not None else "")

    def line_input(self) -> LineInput:
        return LineInput(sku=self.sku_input.value.strip().upper(), qty=self.qty_input.value.strip(),
                         discount_pct=self.disc_input.value.strip() or "0")

    def validate(self) -> str | None:
        """Check every field; the first bad field's name, or None when the line is good."""
        bad = None
        if self.state.product is None:
            text = self.sku_input.value.strip()
            self.set_error("sku", f"unknown SKU {text!r} (F4 lists them)" if text else "SKU is empty")
            bad = "sku"
        if self.check_qty() is None:
            if not self.qty_input.value.strip():
                self.set_error("qty", "quantity is empty")
            bad = bad or "qty"
        if self.check_disc() is None:
            bad = bad or "discount"
        return bad
