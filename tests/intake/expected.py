"""An independent reading of the online-retail rules, written from the data README, not from the importer."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

CHARGES = {"POST", "D", "M", "DOT", "AMAZONFEE", "BANK CHARGES", "CRUK", "C2", "S", "B"}


def cents(d: Decimal) -> int:
    return int((d.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) * 100))


@dataclass
class Expected:
    rows: int = 0
    #: invoice -> (goods rows, charge rows, total cents)
    orders: dict[str, tuple[list[int], list[int], int]] = field(default_factory=dict)
    #: cancellation rows that may become returns (customer known, goods) -> (invoice, customer, sku, qty, price)
    cancel_rows: dict[int, tuple[str, str, str, int, Decimal]] = field(default_factory=dict)
    #: rows that must be rejected whatever happens, with the reason
    sure_rejects: dict[int, str] = field(default_factory=dict)


def expect(invoices: list[list[list[str]]]) -> Expected:
    """Row numbers as in the slice file: the header is row 1."""
    e = Expected()
    row = 1
    for inv in invoices:
        no = inv[0][0]
        goods, charges, total = [], [], 0
        for r in inv:
            row += 1
            e.rows += 1
            sku, qty, price, cust = r[1].strip().upper(), int(r[3]), Decimal(r[5]), r[6].strip()
            if no.startswith("A"):
                e.sure_rejects[row] = "bad-debt-adjustment"
            elif no.startswith("C"):
                if sku in CHARGES:
                    e.sure_rejects[row] = "cancelled-charge"
                elif not cust:
                    e.sure_rejects[row] = "cancellation-no-customer"
                else:
                    e.cancel_rows[row] = (no, cust, sku, -qty, price)
            elif qty < 0:
                e.sure_rejects[row] = "negative-quantity"
            else:
                (charges if sku in CHARGES else goods).append(row)
                total += cents(qty * price)
        if not no.startswith(("A", "C")):
            # an invoice of charges only is a known customer's order of charges; a guest's has no one to bill
            if goods or (charges and inv[0][6].strip()):
                e.orders[no] = (goods, charges, total)
            else:
                for r in charges:
                    e.sure_rejects[r] = "charges-only-invoice"
    return e


def by_invoice(invoices: list[list[list[str]]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for inv in invoices:
        out[inv[0][0]] += len(inv)
    return out
