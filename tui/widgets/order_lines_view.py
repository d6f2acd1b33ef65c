"""The order screen's lines table and its totals: which columns fit the panel's width, each line's cells
(SKU and description as text, never markup), and the subtotal / charges / total line under it."""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from core.models import Order, OrderLine
from core.money import fmt, price_text
from tui.plain import plain
from tui.widgets.columns import Column, fit_columns
from tui.widgets.lines_edit import pct

#: the lines table: (key, heading, width, right-aligned); the description takes what is left
LINE_COLUMNS: list[Column] = [
    ("no", "#", 2, False), ("sku", "SKU", 10, False), ("desc", "Description", 0, False),
    ("qty", "Qty", 5, True), ("price", "Price", 8, True), ("disc", "Disc%", 5, True),
    ("amount", "Amount", 10, True), ("shipped", "Sent", 4, True)]  # Sent: units shipped of the line
#: given up in this order when the panel is narrow; the amount always stays
LINE_DROP_FIRST = ("disc", "shipped", "price")
MIN_DESC, MAX_DESC = 8, 30


def line_columns(width: int) -> list[Column]:
    """The columns that fit `width` cells (a DataTable pads each cell by one space either side)."""
    return fit_columns(LINE_COLUMNS, width - 1, LINE_DROP_FIRST, pad=2, min_flex=MIN_DESC, max_flex=MAX_DESC)


def line_cells(ln: OrderLine, keys: list[str]) -> list[str | Text]:
    """One line's cells for the columns `keys`, in that order."""
    cells: dict[str, str | Text] = {
        "no": Text(str(ln.line_no)), "sku": plain(ln.sku, multiline=False),
        "desc": plain(ln.description, multiline=False), "qty": Text(str(ln.qty), justify="right"),
        "price": Text(price_text(ln.unit_price), justify="right"),
        "disc": Text(pct(ln.discount_pct), justify="right"),
        "amount": Text(fmt(ln.amount), justify="right"),
        "shipped": Text(str(ln.qty_shipped), justify="right")}
    return [cells[k] for k in keys]


def totals_text(o: Order) -> str:
    """"N lines · subtotal · charges · total" (amounts only: no user text, so markup is safe here)."""
    sub = sum((ln.amount for ln in o.lines), Decimal(0))
    charges = sum((c.amount for c in o.charges), Decimal(0))
    return (f"{len(o.lines)} line{'s' if len(o.lines) != 1 else ''} · subtotal {fmt(sub)} · charges {fmt(charges)}"
            f" · [b]total {fmt(o.total)}[/]")
