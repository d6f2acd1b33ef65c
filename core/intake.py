"""Intake, the pure part: a source row becomes a validated line or a reject with its reason; invoices
are grouped and split into goods, charges and rejects; cancellations are matched to earlier lines; and
an imported order gets exactly the decision live entry would give it (class, due, holds, straight-through).

No I/O here: the db layer reads the files and hands rows in, with the time zone to read them in.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from core.enums import Tier
from core.rules import Rules
from core.errors import ValidationError
from core.triage import Classification, classify
from core.when import check_window

#: StockCodes in the online-retail data that are charges, not goods: code -> (order_charges.kind, description).
CHARGE_CODES: dict[str, tuple[str, str]] = {
    "POST": ("shipping", "Postage"),
    "DOT": ("shipping", "Dotcom postage"),
    "C2": ("shipping", "Carriage"),
    "D": ("other", "Discount"),
    "M": ("other", "Manual charge"),
    "S": ("other", "Samples"),
    "B": ("other", "Adjust bad debt"),
    "AMAZONFEE": ("fee", "Amazon fee"),
    "BANK CHARGES": ("fee", "Bank charges"),
    "CRUK": ("fee", "CRUK commission"),
}

#: Why a row was not imported. Keys are stable (summaries, rejects files); values explain them.
REJECT_REASONS: dict[str, str] = {
    "bad-row": "the row cannot be read (a field is missing or malformed)",
    "zero-quantity": "quantity is 0",
    "negative-price": "unit price is negative",
    "negative-quantity": "negative quantity on a sales invoice (a stock adjustment, not an order)",
    "bad-debt-adjustment": "an A invoice is a bad-debt adjustment, not an order",
    "cancellation-no-customer": "a cancellation without CustomerID cannot be matched to an earlier invoice",
    "cancellation-unmatched": "the cancellation exceeds what the customer bought earlier and has not returned",
    "cancellation-not-shipped": "what the customer bought earlier has not shipped, and a return takes back only "
                                "shipped goods (cancel the order instead, or import the file with --history)",
    "cancellation-positive": "a positive quantity on a cancellation invoice",
    "cancelled-charge": "a cancelled charge is a credit adjustment, not goods to return",
    "charges-only-invoice": "the invoice has charges but no goods and no customer, so there is no one to bill",
    "split-invoice": "the order reappears after other orders; its first part was imported already",
    "history-unshipped": "a history import takes completed sales only, and this order never shipped "
                         "(import the folder again without --history to work it)",
    "unknown-customer": "the customer code is not known",
    "unknown-sku": "the SKU is not a known product",
    "bad-channel": "unknown channel",
    "bad-type": "unknown request type",
}

#: credit limit given to customers that imports create (the data has none); documented in the README
IMPORT_CREDIT_LIMIT_CENTS = 50_000_00
#: opening stock of a product an online-retail import creates (the data has no stock figures)
IMPORT_OPENING_STOCK = 100_000


@dataclass(slots=True)
class SourceLine:
    """One validated input line (goods, charge or cancellation), with its row number in the file."""

    row: int
    ref: str
    sku: str
    description: str
    qty: int
    price_e4: int
    received_at: datetime
    customer: str | None
    country: str = ""
    channel: str = "online"
    type: str = "standard"
    discount_e2: int = 0


@dataclass(frozen=True, slots=True)
class Reject:
    row: int
    reason: str
    detail: str
    raw: tuple[str, ...] = ()


# ---- money, the fast exact way -------------------------------------------------------------------
@lru_cache(maxsize=65536)
def price_e4(text: str) -> int:
    """A price string to ten-thousandths; ValueError if it is not a number with at most 4 decimals."""
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"price {text!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"price {text!r} is not a finite number")
    e4 = d * 10000
    if e4 != e4.to_integral_value():
        raise ValueError(f"price {text!r} has more than 4 decimals")
    return int(e4)


def amount_cents(qty: int, price_e4_value: int, discount_e2: int = 0) -> int:
    """qty × price × (1 − discount%), half-even to the cent: the same figure as core.money.line_amount, in integers."""
    num = qty * price_e4_value * (10000 - discount_e2)  # in 1e-8 units
    q, r = divmod(num, 1_000_000)  # to cents
    if r > 500_000 or (r == 500_000 and q % 2):
        q += 1
    return q


def cents_text(c: int) -> str:
    """The str() of the Decimal total that live entry writes into its event (from_cents_int)."""
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


# ---- online retail ------------------------------------------------------------------------------
RETAIL_COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")


def local_to_utc(text: str, tz: tzinfo) -> datetime:
    """`YYYY-MM-DD HH:MM[:SS]` in the shop's local time to an aware UTC datetime."""
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def parse_retail_row(row: int, fields: list[str], tz: tzinfo, _dates: dict[str, datetime] | None = None, *,
                     now: datetime | None = None) -> SourceLine | Reject:
    """One UCI Online Retail row, validated; a Reject says what is wrong with it. With `now`, an
    InvoiceDate outside the date window (`core.when`: 1970 … a day ahead) is rejected, as in every
    other format: a row dated 9999-12-31 or 0001-01-01 was imported as an order of that year."""
    if len(fields) != 8:
        return Reject(row, "bad-row", f"expected 8 fields, got {len(fields)}", tuple(fields))
    inv, sku, desc, qty_s, date_s, price_s, cust, country = fields
    inv = inv.strip()
    sku = sku.strip().upper()
    if not inv or not sku:
        return Reject(row, "bad-row", "InvoiceNo or StockCode is empty", tuple(fields))
    try:
        qty = int(qty_s)
        p = price_e4(price_s)
    except ValueError as e:
        return Reject(row, "bad-row", f"Quantity {qty_s!r} is not a whole number" if "int()" in str(e) else str(e),
                      tuple(fields))
    when = _dates.get(date_s) if _dates is not None else None
    if when is None:
        try:
            when = local_to_utc(date_s, tz)
        except ValueError:
            return Reject(row, "bad-row", f"InvoiceDate {date_s!r} is not a date and time", tuple(fields))
        if now is not None:
            try:
                check_window(when, now, field="InvoiceDate")
            except ValidationError as e:
                return Reject(row, "bad-row", e.message, tuple(fields))
        if _dates is not None:
            _dates[date_s] = when
    if cust:
        cust = cust.strip()
        if cust.endswith(".0"):
            cust = cust[:-2]
    return SourceLine(row, inv, sku, desc.strip(), qty, p, when, cust or None, country.strip())


@dataclass
class InvoicePlan:
    """What one invoice becomes: an order (goods + charges), a cancellation, or only rejects."""

    ref: str
    cancellation: bool
    goods: list[SourceLine] = field(default_factory=list)
    charges: list[SourceLine] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def raw_of(ln: SourceLine) -> tuple[str, ...]:
    """The fields a rejects file shows for a line that was read but not imported."""
    return (ln.ref, ln.sku, ln.description, str(ln.qty), str(Decimal(ln.price_e4) / 10000), ln.customer or "",
            ln.received_at.isoformat(timespec="seconds").replace("+00:00", "Z"))


def reject_line(ln: SourceLine, reason: str, detail: str = "") -> Reject:
    return Reject(ln.row, reason, detail or REJECT_REASONS[reason], raw_of(ln))




def plan_invoice(lines: list[SourceLine]) -> InvoicePlan:
    """Split one invoice's lines into goods, charges and rejects, each reject with its reason."""
    ref = lines[0].ref
    head = ref[:1].upper()
    plan = InvoicePlan(ref=ref, cancellation=head == "C")
    for ln in lines:
        if head == "A":
            plan.rejects.append(reject_line(ln, "bad-debt-adjustment", f"{ref}: {REJECT_REASONS['bad-debt-adjustment']}"))
        elif ln.qty == 0:
            plan.rejects.append(reject_line(ln, "zero-quantity"))
        elif ln.price_e4 < 0:
            plan.rejects.append(reject_line(ln, "negative-price", f"unit price {ln.price_e4 / 10000} is negative"))
        elif plan.cancellation:
            if ln.qty > 0:
                plan.rejects.append(reject_line(ln, "cancellation-positive"))
            elif ln.sku in CHARGE_CODES:
                plan.rejects.append(reject_line(ln, "cancelled-charge",
                                            f"{ref} cancels charge {ln.sku}: a credit adjustment, not goods to return"))
            elif ln.customer is None:
                plan.rejects.append(reject_line(ln, "cancellation-no-customer"))
            else:
                plan.goods.append(ln)
        elif ln.qty < 0:
            plan.rejects.append(reject_line(ln, "negative-quantity",
                                        f"quantity {ln.qty} on sales invoice {ref} (a stock adjustment, not an order)"))
        elif ln.sku in CHARGE_CODES:
            plan.charges.append(ln)
        else:
            plan.goods.append(ln)
    if not plan.cancellation and plan.charges and not plan.goods and plan.charges[0].customer is None:
        # charges of a known customer (a manual charge, postage, a marketplace fee) are revenue: an order of
        # charges; a guest's have no one to bill
        plan.rejects.extend(reject_line(ln, "charges-only-invoice") for ln in plan.charges)
        plan.charges = []
    plan.rejects.sort(key=lambda r: r.row)
    return plan


def group_runs(lines: Iterable[SourceLine | Reject]) -> Iterator[tuple[list[SourceLine], list[Reject]]]:
    """Consecutive lines with the same ref form one invoice; rows that could not be read travel with it."""
    current: list[SourceLine] = []
    bad: list[Reject] = []
    for item in lines:
        if isinstance(item, Reject):
            bad.append(item)
            continue
        if current and item.ref != current[0].ref:
            yield current, bad
            current, bad = [], []
        current.append(item)
    if current or bad:
        yield current, bad


def allocate(want: int, candidates: Iterable[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Spread a cancelled quantity over earlier lines (id, still returnable), in the order given.

    Returns the (line id, units) taken and the units left over: what can be matched is matched, and
    the caller rejects the rest with its reason.
    """
    out: list[tuple[int, int]] = []
    left = want
    for line_id, avail in candidates:
        if left == 0:
            break
        if avail <= 0:
            continue
        take = min(left, avail)
        out.append((line_id, take))
        left -= take
    return out, left


def invoice_seq(ref: str | None) -> int:
    """The number of an invoice, its letters dropped (C536379 -> 536379): within one minute, a purchase
    counts as earlier than a cancellation only if its number is lower."""
    digits = "".join(ch for ch in ref or "" if ch.isdigit())
    return int(digits) if digits else 0


def return_class(rules: Rules, tier: Tier) -> Classification:
    """An imported cancellation is a non-fault return: it ranks like a standard order of that customer."""
    return classify(rules, "standard", tier) if "standard" in rules.request_types else classify(
        rules, next(iter(rules.request_types)), tier)


# ---- the generic documented formats (csv, jsonl) --------------------------------------------------------
GENERIC_COLUMNS = ("order_ref", "customer", "channel", "type", "sku", "qty", "unit_price", "discount", "received_at",
                   "description")
#: unit price not given: the product's list price applies (as in order entry)
LIST_PRICE = -1


def parse_generic(row: int, rec: dict[str, object], now: datetime, tz: tzinfo = UTC) -> SourceLine | Reject:
    """One line of the generic format (one order line per row); see GENERIC_COLUMNS and the README."""
    def text(key: str) -> str:
        v = rec.get(key)
        return "" if v is None else str(v).strip()

    raw = tuple(text(k) for k in GENERIC_COLUMNS)
    if isinstance(rec.get("qty"), float) or isinstance(rec.get("unit_price"), float):
        return Reject(row, "bad-row", "qty and unit_price must be whole numbers / decimal strings, not floats", raw)
    ref, cust, sku = text("order_ref"), text("customer"), text("sku").upper()
    if not ref:
        return Reject(row, "bad-row", "order_ref is empty", raw)
    if not cust:
        return Reject(row, "bad-row", "customer is empty", raw)
    if not sku:
        return Reject(row, "bad-row", "sku is empty", raw)
    qty_s = text("qty")
    try:
        qty = int(qty_s)
        if str(qty) != qty_s.lstrip("+"):
            raise ValueError
    except ValueError:
        return Reject(row, "bad-row", f"qty {qty_s!r} is not a whole number", raw)
    p = LIST_PRICE
    if text("unit_price"):
        try:
            p = price_e4(text("unit_price"))
        except ValueError as e:
            return Reject(row, "bad-row", str(e), raw)
        if p < 0:
            return Reject(row, "negative-price", f"unit price {text('unit_price')} is negative", raw)
    disc_e2 = 0
    if text("discount"):
        try:
            d = Decimal(text("discount"))
            if not (0 <= d <= 100) or d != d.quantize(Decimal("0.01")):
                raise ValueError
            disc_e2 = int(d * 100)
        except (InvalidOperation, ValueError):
            return Reject(row, "bad-row", f"discount {text('discount')!r} must be 0 to 100 with at most 2 decimals", raw)
    when = now
    if text("received_at"):
        try:
            when = check_window(local_to_utc(text("received_at").replace("Z", "+00:00"), tz), now, field="received_at")
        except ValidationError as e:
            return Reject(row, "bad-row", e.message, raw)
        except (ValueError, OverflowError):
            return Reject(row, "bad-row", f"received_at {text('received_at')!r} is not an ISO date and time", raw)
    if qty <= 0:
        return Reject(row, "zero-quantity" if qty == 0 else "negative-quantity",
                      f"qty {qty}: {REJECT_REASONS['zero-quantity' if qty == 0 else 'negative-quantity']}", raw)
    return SourceLine(row, ref, sku, text("description"), qty, p, when, cust, "",
                      text("channel") or "online", text("type") or "standard", disc_e2)
