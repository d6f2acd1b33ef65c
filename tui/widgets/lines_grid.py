"""The keyboard-first lines grid shared by order entry and line editing.

Each row is SKU, quantity and discount; the description, unit price (from the product), stock
and line amount are shown beside them. Enter moves SKU → qty → discount → the next line (a new
one is started after the last discount); Enter on a blank SKU in the last line means "done".
Quantity and discount are checked as they are typed, with the message next to the row; nothing
is written by the grid itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label

from core.errors import OrderqError
from core.lines import parse_discount, parse_qty
from core.lookup import complete, resolve
from core.models import Product
from core.money import fmt, line_amount
from db.service.orders import LineInput


class CodeSuggester(Suggester):
    """Grey type-ahead: the first code that starts with what was typed."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.codes = codes

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.codes)


def product_choices(products: list[Product]) -> list[tuple[str, str]]:
    return [
        (p.sku, f"{p.description} · {p.price:.2f} · {p.stock} in stock" + ("" if p.active else " · INACTIVE"))
        for p in products
    ]


@dataclass
class RowState:
    sku: str = ""
    product: Product | None = None


class LineRow(Vertical):
    """One order line: three inputs, the priced details, and an error line under it."""

    DEFAULT_CSS = """
    LineRow { height: auto; }
    LineRow > Horizontal { height: 1; }
    LineRow .ln-error { color: $error; padding-left: 4; height: auto; display: none; }
    LineRow.-error .ln-error { display: block; }
    LineRow Input.-invalid { color: $error; text-style: bold; }
    """

    def __init__(self, grid: "LinesGrid", n: int, sku: str = "", qty: str = "", disc: str = "") -> None:
        super().__init__()
        self.grid = grid
        self.n = n
        self.state = RowState()
        self._init = (sku, qty, disc)
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        sku, qty, disc = self._init
        with Horizontal():
            yield Label(f"{self.n:>2}", classes="ln-no")
            yield Input(sku, placeholder="SKU", compact=True, classes="ln-sku",
                        suggester=self.grid.suggester, select_on_focus=False)
            yield Input(qty, placeholder="qty", compact=True, classes="ln-qty", select_on_focus=False)
            yield Input(disc, placeholder="disc%", compact=True, classes="ln-disc", select_on_focus=False)
            yield Label("", classes="ln-info")
            yield Label("", classes="ln-amount")
        yield Label("", classes="ln-error")

    def on_mount(self) -> None:
        if self._init[0]:
            self.set_sku(self._init[0])
        self.update_amount()

    # ---- fields ------------------------------------------------------------------------
    @property
    def sku_input(self) -> Input:
        return self.query_one(".ln-sku", Input)

    @property
    def qty_input(self) -> Input:
        return self.query_one(".ln-qty", Input)

    @property
    def disc_input(self) -> Input:
        return self.query_one(".ln-disc", Input)

    @property
    def blank(self) -> bool:
        return not (self.sku_input.value.strip() or self.qty_input.value.strip() or self.disc_input.value.strip())

    def field_of(self, widget: Input) -> str:
        return "sku" if widget is self.sku_input else "qty" if widget is self.qty_input else "discount"

    def set_error(self, field: str, message: str | None) -> None:
        if message:
            self.errors[field] = message
        else:
            self.errors.pop(field, None)
        widget = {"sku": self.sku_input, "qty": self.qty_input, "discount": self.disc_input}.get(field)
        if widget is not None:
            widget.set_class(bool(message), "-invalid")
        text = "  ".join(f"⚠ {m}" for m in self.errors.values())
        self.query_one(".ln-error", Label).update(text)
        self.set_class(bool(self.errors), "-error")

    def set_sku(self, sku: str) -> Product | None:
        prod = self.grid.product(sku)
        self.state.product = prod
        info = self.query_one(".ln-info", Label)
        if prod is None:
            info.update("")
            return None
        if self.sku_input.value != prod.sku:
            with self.sku_input.prevent(Input.Changed):
                self.sku_input.value = prod.sku
        notes = [f"{prod.description}", f"@ {prod.price:.2f}", f"{prod.stock} in stock"]
        if not prod.active:
            notes.append("INACTIVE")
        info.update(" · ".join(notes))
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
            self.query_one(".ln-info", Label).update(
                f"{prod.description} · @ {prod.price:.2f} · only {prod.stock} in stock: stock hold")
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
        self.query_one(".ln-amount", Label).update(fmt(amt) if amt is not None else "")

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


class LinesGrid(VerticalScroll):
    """The rows, and the keys that move through them."""

    BINDINGS = [
        Binding("f4", "prompt_sku", "List SKUs", id="lines.prompt"),
        Binding("ctrl+d", "delete_line", "Delete line", id="lines.delete"),
    ]
    DEFAULT_CSS = """
    LinesGrid { height: 1fr; border: round $primary-darken-2; padding: 0 1; }
    LinesGrid > .lines-head { height: 1; color: $text-muted; text-style: bold; }
    LinesGrid .ln-no { width: 4; color: $text-muted; }
    LinesGrid .ln-sku { width: 14; margin-right: 1; }
    LinesGrid .ln-qty { width: 8; margin-right: 1; }
    LinesGrid .ln-disc { width: 7; margin-right: 1; }
    LinesGrid .ln-info { width: 1fr; color: $text-muted; }
    LinesGrid .ln-amount { width: 14; text-align: right; }
    """

    class Done(Message):
        """Enter on a blank SKU in the last line: the rep has no more lines."""

    class Changed(Message):
        """A line changed (the screen refreshes its totals)."""

    def __init__(self, products: list[Product], lines: list[tuple[str, str, str]] | None = None, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.products = {p.sku: p for p in products}
        self.choices = product_choices(products)
        self.suggester = CodeSuggester([p.sku for p in products])
        self._initial = lines or []
        self.can_focus = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="lines-head"):
            for text, cls in ((" #", "ln-no"), ("SKU", "ln-sku"), ("qty", "ln-qty"), ("disc %", "ln-disc"),
                              ("description · price · stock", "ln-info"), ("amount", "ln-amount")):
                yield Label(text, classes=cls)
        for n, (sku, qty, disc) in enumerate(self._initial, start=1):
            yield LineRow(self, n, sku, qty, disc)
        yield LineRow(self, len(self._initial) + 1)

    # ---- look-ups ----------------------------------------------------------------------
    def product(self, text: str) -> Product | None:
        code = resolve(text, self.choices)
        return self.products.get(code) if code else None

    @property
    def rows(self) -> list[LineRow]:
        return list(self.query(LineRow))

    def row_of(self, widget: Input) -> LineRow | None:
        for node in widget.ancestors:
            if isinstance(node, LineRow):
                return node
        return None

    def filled_rows(self) -> list[LineRow]:
        return [r for r in self.rows if not r.blank]

    def line_inputs(self) -> list[LineInput]:
        return [r.line_input() for r in self.filled_rows()]

    def total(self) -> Decimal:
        return sum((r.amount() or Decimal(0) for r in self.filled_rows()), Decimal(0))

    def focus_first(self) -> None:
        self.rows[0].sku_input.focus()

    async def add_row(self) -> LineRow:
        row = LineRow(self, len(self.rows) + 1)
        await self.mount(row)
        return row

    def validate(self) -> Input | None:
        """Check every filled line; the first bad input (to focus), or None when all are good."""
        first: Input | None = None
        filled = self.filled_rows()
        if not filled:
            self.rows[0].set_error("sku", "an order needs at least one line")
            return self.rows[0].sku_input
        for r in filled:
            bad = r.validate()
            if bad and first is None:
                first = {"sku": r.sku_input, "qty": r.qty_input, "discount": r.disc_input}[bad]
        return first

    def show_error(self, field: str, message: str) -> Input | None:
        """Put a service refusal (`lines.N.qty` …) next to its field; the input to focus."""
        parts = field.split(".")
        filled = self.filled_rows()
        if len(parts) == 3 and parts[1].isdigit() and 0 < int(parts[1]) <= len(filled):
            row = filled[int(parts[1]) - 1]
            name = parts[2] if parts[2] in ("sku", "qty", "discount") else "sku"
            row.set_error(name, message)
            return {"sku": row.sku_input, "qty": row.qty_input, "discount": row.disc_input}[name]
        rows = self.rows
        rows[0].set_error("sku", message)
        return rows[0].sku_input

    # ---- typing ------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        row = self.row_of(event.input)
        if row is None:
            return
        event.stop()
        field = row.field_of(event.input)
        if field == "sku":
            row.state.product = None
            row.set_error("sku", None)
            exact = self.products.get(event.value.strip().upper())
            if exact is not None:
                row.set_sku(exact.sku)
            else:
                row.query_one(".ln-info", Label).update("")
        elif field == "qty":
            if event.value.strip():
                row.check_qty()
            else:
                row.set_error("qty", None)
        else:
            row.check_disc()
        row.update_amount()
        self.post_message(self.Changed())

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        row = self.row_of(event.input)
        if row is None:
            return
        event.stop()
        field = row.field_of(event.input)
        rows = self.rows
        last = row is rows[-1]
        if field == "sku":
            text = event.value.strip()
            if not text:
                if last:
                    self.post_message(self.Done())
                else:
                    row.set_error("sku", "SKU is empty (Ctrl+D deletes the line)")
                return
            if row.set_sku(text) is not None:
                row.qty_input.focus()
            else:
                self.action_prompt_sku()
        elif field == "qty":
            if row.check_qty() is not None:
                row.disc_input.focus()
            elif not event.value.strip():
                row.set_error("qty", "quantity is empty")
        else:
            if row.check_disc() is None:
                return
            if last:
                new = await self.add_row()
                new.sku_input.focus()
                self.scroll_to_widget(new)
            else:
                rows[rows.index(row) + 1].sku_input.focus()

    def action_prompt_sku(self) -> None:
        from tui.widgets.prompt_list import PromptList

        focused = self.screen.focused
        row = self.row_of(focused) if isinstance(focused, Input) else None
        if row is None:
            row = self.rows[-1]
        text = row.sku_input.value.strip()
        initial = "" if self.product(text) else text

        def picked(value: str | None) -> None:
            if value is None:
                row.sku_input.focus()
                return
            row.set_sku(value)
            row.qty_input.focus()
            self.post_message(self.Changed())

        self.app.push_screen(PromptList("SKU", self.choices, initial), picked)

    async def action_delete_line(self) -> None:
        focused = self.screen.focused
        row = self.row_of(focused) if isinstance(focused, Input) else None
        if row is None:
            return
        rows = self.rows
        if len(rows) == 1:
            for w in (row.sku_input, row.qty_input, row.disc_input):
                w.value = ""
            row.errors.clear()
            row.set_error("sku", None)
            return
        i = rows.index(row)
        await row.remove()
        rows = self.rows
        for n, r in enumerate(rows, start=1):
            r.n = n
            r.query_one(".ln-no", Label).update(f"{n:>2}")
        rows[min(i, len(rows) - 1)].sku_input.focus()
        self.post_message(self.Changed())
