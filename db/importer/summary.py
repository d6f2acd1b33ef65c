"""What one import read and where each row ended: the figures `orderq import` prints, and the conservation
check that every row read is accounted for (an order line or charge, a return, a reject, or already there)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.intake import cents_text


@dataclass
class ImportSummary:
    file: str
    format: str
    rows_read: int = 0
    orders: int = 0
    lines: int = 0
    charges: int = 0
    charge_rows: int = 0
    other_rows: int = 0
    returns: int = 0
    return_lines: int = 0
    returned_rows: int = 0
    #: cancellation rows matched in part: counted once in returned_rows and once in rejects (the rest)
    partly_returned_rows: int = 0
    rejects: int = 0
    rejects_by_reason: Counter = field(default_factory=Counter)
    skipped_rows: int = 0
    skipped_orders: int = 0
    by_state: Counter = field(default_factory=Counter)
    straight_through: int = 0
    customers_created: int = 0
    products_created: int = 0
    order_total_cents: int = 0
    refund_total_cents: int = 0
    chunks: int = 0
    rejects_file: str | None = None
    seconds: float = 0.0
    #: imported as history (completed sales, shipped on their own dates), not as live intake
    history: bool = False
    #: imported orders whose source row named where it ships (Northwind's Ship*, online-retail's Country) …
    ship_to_rows: int = 0
    #: … and the orders stored with that ship-to: the two agree, or the summary says the rows do not add up
    ship_tos: int = 0
    #: imported orders whose source row gave a requested date (Northwind's RequiredDate) … and those stored with it
    requested_rows: int = 0
    requested_dates: int = 0
    #: imported orders whose source row named a shipper (Northwind's ShipVia) … and those stored with its method
    ship_method_rows: int = 0
    ship_methods: int = 0
    addresses_created: int = 0
    contacts_created: int = 0

    @property
    def conserved(self) -> bool:
        """Every row read ended in an order line or charge, a return, the rejects, or was imported before."""
        return self.rows_read == (self.lines + self.charge_rows + self.returned_rows + self.rejects + self.skipped_rows
                                  + self.other_rows - self.partly_returned_rows) and self.headers_conserved

    @property
    def headers_conserved(self) -> bool:
        """Every header field the source gave an order (ship-to, requested date, shipper) is on the stored order."""
        return (self.ship_tos, self.requested_dates, self.ship_methods) == (
            self.ship_to_rows, self.requested_rows, self.ship_method_rows)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "rows_read": self.rows_read, "orders": self.orders,
            "lines": self.lines, "charges": self.charges, "returns": self.returns, "return_lines": self.return_lines,
            "returned_rows": self.returned_rows, "partly_returned_rows": self.partly_returned_rows,
            "master_rows": self.other_rows, "rejects": self.rejects, "history": self.history,
            "rejects_by_reason": dict(sorted(self.rejects_by_reason.items())),
            "already_imported_rows": self.skipped_rows, "already_imported_orders": self.skipped_orders,
            "by_state": dict(sorted(self.by_state.items())), "straight_through": self.straight_through,
            "queued_for_rep": self.orders - self.straight_through - self.by_state.get("shipped", 0),
            "customers_created": self.customers_created, "products_created": self.products_created,
            "ship_to_rows": self.ship_to_rows, "ship_tos": self.ship_tos,
            "requested_rows": self.requested_rows, "requested_dates": self.requested_dates,
            "ship_method_rows": self.ship_method_rows, "ship_methods": self.ship_methods,
            "addresses_created": self.addresses_created, "contacts_created": self.contacts_created,
            "order_total": cents_text(self.order_total_cents), "refund_total": cents_text(self.refund_total_cents),
            "conserved": self.conserved, "chunks": self.chunks, "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 2),
        }
