"""Small aids for the keyboard-first inputs of the order forms: type-ahead of codes, the product list
F4 shows, waiting for a field's queued keys, and a cheap label update per key.

WHY its own module: the lines grid, the header form, the entry screen and the form dialog all use them;
none of them is about the lines grid.
"""
from __future__ import annotations

import asyncio

from textual.content import Content
from textual.suggester import Suggester
from textual.widgets import Input, Label

from core.lookup import complete
from core.models import Product
from core.money import price_text
from tui.plain import plain


class CodeSuggester(Suggester):
    """Grey type-ahead: the first code that starts with what was typed."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.codes = codes

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.codes)


def product_choices(products: list[Product]) -> list[tuple[str, str]]:
    return [
        (p.sku, f"{p.description} · {price_text(p.price)} · {p.stock} in stock" + ("" if p.active else " · INACTIVE"))
        for p in products
    ]


async def settle(widget: Input) -> None:
    """Let a field take the keys already queued for it, so its value is complete."""
    for _ in range(1000):
        if not widget.message_queue_size:
            return
        await asyncio.sleep(0)


def put(label: Label, text: str | Content) -> None:
    """Update a fixed-size label without a layout pass, and only when its text changes (cheap per key).
    A str is shown as plain text (it holds product descriptions, names, refusals); house styling
    comes as `styled(...)` Content."""
    if getattr(label, "_put_text", None) != text:
        label._put_text = text  # type: ignore[attr-defined]
        label.update(plain(text) if isinstance(text, str) else text, layout=False)
