"""Look-ups for forms: who the customers are, what the products are, and pricing typed lines.

Read-only: nothing here writes. Entry forms use it for type-ahead, the F4 lists and for checking
a line as it is typed, with the same validation the order commands apply.
"""
from __future__ import annotations

from core.models import Customer, Product
from core.money import from_price_int
from core.permissions import Action
from db.order_records import CUSTOMER_SQL, customer_from_row
from db.service.context import Context
from db.service.orders import LineInput, validate_lines


class CatalogService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def customers(self) -> list[Customer]:
        """Every customer, by code (a few thousand at most: the F4 list and type-ahead load them once)."""
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return [customer_from_row(r) for r in c.execute(CUSTOMER_SQL + " ORDER BY c.code")]

    def products(self) -> list[Product]:
        """Every product, by SKU, with its price, stock and whether it is active."""
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return [_product(r) for r in c.execute("SELECT * FROM products ORDER BY sku")]

    def customer(self, code: str) -> Customer | None:
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            row = c.execute(CUSTOMER_SQL + " WHERE c.code = ?", ((code or "").strip(),)).fetchone()
        return customer_from_row(row) if row else None

    def product(self, sku: str) -> Product | None:
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            r = c.execute("SELECT * FROM products WHERE sku = ?", ((sku or "").strip().upper(),)).fetchone()
        return _product(r) if r is not None else None

    def price_lines(self, lines: list[LineInput]) -> list[dict]:
        """The lines priced exactly as `orders.create` would, or the same ValidationError; writes nothing."""
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return validate_lines(c, lines)


def _product(r) -> Product:  # noqa: ANN001 - a products row
    return Product(sku=r["sku"], description=r["description"], price=from_price_int(r["price_e4"]),
                   stock=r["stock"], category=r["category"], active=bool(r["active"]))
