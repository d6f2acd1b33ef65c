"""The keyboard-first lines grid shared by order entry and line editing.

Each row is SKU, quantity and discount; the description, unit price (from the product), stock
and line amount are shown beside them. Enter moves SKU → qty → discount → the next line (a new
one is started after the last discount); Enter on a blank SKU in the last line means "done".
Quantity and discount are checked as they are typed, with the message next to the row; nothing
is written by the grid itself.
"""
from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label

from core.lookup import resolve
from core.models import Product
from db.service.orders import LineInput
from tui.widgets.input_aids import CodeSuggester, product_choices, settle
from tui.widgets.line_row import LineRow


class LinesGrid(VerticalScroll):
    """The rows, and the keys that move through them."""

    BINDINGS = [
        Binding("enter", "advance", "Next field", id="lines.next", show=False, priority=True),
        Binding("f4", "prompt_sku", "List SKUs", id="lines.prompt"),
        Binding("up", "row(-1)", "Line above", id="lines.up", show=False),
        Binding("down", "row(1)", "Line below", id="lines.down", show=False),
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

    SPARE_ROWS = 6
    GROW_BY = 4

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
        self._rows: list[LineRow] = []

    def compose(self) -> ComposeResult:
        with Horizontal(classes="lines-head"):
            for text, cls in ((" #", "ln-no"), ("SKU", "ln-sku"), ("qty", "ln-qty"), ("disc %", "ln-disc"),
                              ("description · price · stock", "ln-info"), ("amount", "ln-amount")):
                yield Label(text, classes=cls)
        self._rows = [LineRow(self, n, sku, qty, disc) for n, (sku, qty, disc) in enumerate(self._initial, start=1)]
        # blank lines are laid out ahead of need (like a paper form), so moving on never waits for a mount
        self._rows += [LineRow(self, n) for n in range(len(self._rows) + 1,
                                                       max(len(self._rows) + 1, self.SPARE_ROWS) + 1)]
        yield from self._rows

    # ---- look-ups ----------------------------------------------------------------------
    def apply_stock(self, deltas: dict[str, int]) -> None:
        """Another session moved stock (a release, a cancel, a restock): show the new figures."""
        changed = False
        for sku, delta in deltas.items():
            prod = self.products.get(sku)
            if prod is not None and delta:
                self.products[sku] = prod.model_copy(update={"stock": prod.stock + int(delta)})
                changed = True
        if not changed:
            return
        self.choices = product_choices(list(self.products.values()))
        for row in self._rows:
            if row.state.product is not None and row.state.product.sku in deltas:
                row.set_sku(row.state.product.sku)
                if row.qty_input.value.strip():
                    row.check_qty()

    def product(self, text: str) -> Product | None:
        code = resolve(text, self.choices)
        return self.products.get(code) if code else None

    @property
    def rows(self) -> list[LineRow]:
        """The lines in order (kept as a list: a DOM query on every key press is measurable)."""
        return list(self._rows)

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
        self.screen.set_focus(self.rows[0].sku_input)

    async def add_rows(self, n: int) -> None:
        start = len(self._rows)
        new = [LineRow(self, start + i + 1) for i in range(n)]
        self._rows += new
        await self.mount_all(new)

    def rest_blank(self, row: LineRow) -> bool:
        """Is every line from `row` on blank? (Enter on a blank SKU there means "done".)"""
        rows = self.rows
        return all(r.blank for r in rows[rows.index(row):])

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
            # the value now, not the event's: a resolved code ("81" → GAR-0081) may have replaced it
            row.state.product = None
            row.set_error("sku", None)
            exact = self.products.get(event.input.value.strip().upper())
            if exact is not None:
                row.set_sku(exact.sku)
            else:
                row.set_info("")
        elif field == "qty":
            if event.value.strip():
                row.check_qty()
            else:
                row.set_error("qty", None)
        else:
            row.check_disc()
        row.update_amount()
        self.post_message(self.Changed())

    async def action_advance(self) -> None:
        """Enter: leave the field for the next one.

        A priority binding, so it runs in turn with the key stream: keys typed ahead of the screen
        (a fast typist, a laggy SSH link, a scanner) land in the next field, not in this one.
        """
        focused = self.screen.focused
        row = self.row_of(focused) if isinstance(focused, Input) else None
        if row is None:
            return
        await settle(focused)
        await self.advance_from(row, row.field_of(focused))

    async def advance_from(self, row: LineRow, field: str) -> None:
        rows = self.rows
        focus = self.screen.set_focus
        if field == "sku":
            text = row.sku_input.value.strip()
            if not text:
                if self.rest_blank(row):
                    self.post_message(self.Done())
                else:
                    row.set_error("sku", "SKU is empty (Ctrl+D deletes the line)")
                return
            if row.set_sku(text) is not None:
                focus(row.qty_input)
            else:
                self.action_prompt_sku()
        elif field == "qty":
            if row.check_qty() is not None:
                focus(row.disc_input)
            elif not row.qty_input.value.strip():
                row.set_error("qty", "quantity is empty")
        else:
            if row.check_disc() is None:
                return
            i = rows.index(row)
            if i + 1 >= len(rows):
                await self.add_rows(self.GROW_BY)
                rows = self.rows
            nxt = rows[i + 1]
            focus(nxt.sku_input)
            if i + 2 >= len(rows):  # keep a blank line ahead, outside this key's critical path
                self.call_after_refresh(self.add_rows, self.GROW_BY)

    def action_row(self, delta: int) -> None:
        """Up/down: the same field on the line above or below."""
        focused = self.screen.focused
        row = self.row_of(focused) if isinstance(focused, Input) else None
        if row is None:
            return
        rows = self.rows
        i = rows.index(row) + delta
        if 0 <= i < len(rows):
            field = row.field_of(focused)
            target = rows[i]
            self.screen.set_focus({"sku": target.sku_input, "qty": target.qty_input,
                                   "discount": target.disc_input}[field])

    def action_prompt_sku(self) -> None:
        from tui.widgets.prompt_list import PromptList

        focused = self.screen.focused
        row = self.row_of(focused) if isinstance(focused, Input) else None
        if row is None:
            row = next((r for r in self.rows if r.blank), self.rows[-1])
        text = row.sku_input.value.strip()
        initial = "" if self.product(text) else text

        def picked(value: str | None) -> None:
            if value is None:
                self.screen.set_focus(row.sku_input)
                return
            row.set_sku(value)
            self.screen.set_focus(row.qty_input)
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
            for f in list(row.errors):
                row.set_error(f, None)
            return
        i = rows.index(row)
        self._rows.remove(row)
        await row.remove()
        rows = self.rows
        for n, r in enumerate(rows, start=1):
            r.n = n
            r.no_label.update(f"{n:>2}")
        rows[min(i, len(rows) - 1)].sku_input.focus()
        self.post_message(self.Changed())
