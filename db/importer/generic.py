"""The generic import formats (`--format csv`, `--format jsonl`): one row / JSON object per order line; rows
of one order are consecutive and share its order_ref.
    order_ref    required; the order's source_ref (idempotency key)
    customer     required; an existing customer code
    sku          required; an existing product SKU, or a charge code (POST, DOT, C2, D, M, S,
                 AMAZONFEE, BANK CHARGES, CRUK, B) which becomes an order charge of qty × unit_price
    qty          required; whole number > 0 (a JSON number or string; never a float)
    unit_price   optional; decimal string with at most 4 places; empty: the product's list price
    discount     optional; percent 0–100, at most 2 places
    channel      optional; phone, fax, email, online (default), edi, walk_in
    type         optional; a request type from the rules (default standard)
    received_at  optional; ISO 8601 (naive means UTC); default: now
    description  optional; shown on charges
The order's customer, channel, type and received_at come from its first row.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from core.enums import Channel
from core.errors import ValidationError
from core.intake import (
    CHARGE_CODES, GENERIC_COLUMNS, LIST_PRICE, Reject, SourceLine, amount_cents, group_runs, parse_generic, reject_line,
)
from db.importer.accounting import Importer
from db.importer.bulk import Goods
from db.importer.source_files import open_text


def import_generic(imp: Importer, path: Path, fmt: str, now: datetime) -> None:
    size = path.stat().st_size
    with open_text(path) as fh:
        s = imp.s

        def records() -> Iterator[SourceLine | Reject]:
            if fmt == "jsonl":
                for n, text in enumerate(fh, start=1):
                    if not text.strip():
                        continue
                    s.rows_read += 1
                    try:
                        rec = json.loads(text, parse_float=float)
                        if not isinstance(rec, dict):
                            raise ValueError("not an object")
                    except ValueError as e:
                        yield Reject(n, "bad-row", f"not a JSON object: {e}", (text.strip()[:200],))
                        continue
                    except RecursionError:  # 100k nested brackets: the parser's stack, not a JSON error
                        yield Reject(n, "bad-row", "not a JSON object: nested too deeply", (text.strip()[:200],))
                        continue
                    yield parse_generic(n, rec, now)
            else:
                reader = csv.DictReader(fh)
                missing = [c for c in ("order_ref", "customer", "sku", "qty") if c not in (reader.fieldnames or [])]
                if missing:
                    raise ValidationError(f"{path.name}: missing column(s) {', '.join(missing)} "
                                          f"(columns: {', '.join(GENERIC_COLUMNS)})", field="format")
                for rec in reader:
                    s.rows_read += 1
                    yield parse_generic(reader.line_num, rec, now)

        for lines, bad in group_runs(records()):
            for rej in bad:
                imp.reject(rej)
            if not lines or imp.already(lines[0].ref, lines):
                continue
            _generic_order(imp, lines)
            imp.invoice_done(0, size)


def _generic_order(imp: Importer, lines: list[SourceLine]) -> None:
    b = imp.bulk
    first = lines[0]
    try:
        channel = Channel(first.channel)
    except ValueError:
        for ln in lines:
            imp.reject(reject_line(ln, "bad-channel", f"channel {first.channel!r} is not one of "
                                                      f"{', '.join(c.value for c in Channel)}"))
        return
    if first.type not in b.rules.request_types:
        for ln in lines:
            imp.reject(reject_line(ln, "bad-type", f"request type {first.type!r} is not in the rules "
                                                   f"({', '.join(sorted(b.rules.request_types))})"))
        return
    cust = b.customers.get(first.customer or "")
    if cust is None:
        for ln in lines:
            imp.reject(reject_line(ln, "unknown-customer", f"customer {first.customer!r} is not known"))
        return
    goods: list[Goods] = []
    charges: list[tuple[str, str, str, int]] = []
    charge_lines = []
    for ln in lines:
        if ln.sku in CHARGE_CODES and ln.sku not in b.products:
            if ln.price_e4 == LIST_PRICE:
                imp.reject(reject_line(ln, "bad-row", f"charge {ln.sku} needs a unit_price"))
                continue
            charge_lines.append(ln)
            charges.append((ln.sku, CHARGE_CODES[ln.sku][0], ln.description or CHARGE_CODES[ln.sku][1],
                            amount_cents(ln.qty, ln.price_e4)))
            continue
        prod = b.products.get(ln.sku)
        if prod is None:
            imp.reject(reject_line(ln, "unknown-sku", f"SKU {ln.sku!r} is not a known product"))
            continue
        goods.append(Goods(ln.sku, ln.qty, prod.price_e4 if ln.price_e4 == LIST_PRICE else ln.price_e4,
                           ln.discount_e2))
    if not goods and not charges:
        return
    imp.order(ref=first.ref, customer=cust, channel=channel, order_type=first.type,
              received_at=first.received_at, goods=goods, charges=charges, ship_to=imp.country_ship_to(first))
