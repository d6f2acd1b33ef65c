"""From a partner's purchase order to ours, and back: pure rules, no SQL (db/service/edi_intake.py runs them).

- **Item codes.** A line's codes resolve through the partner's cross-reference first (its code and
  qualifier, as it sent them), then through our products' barcodes, which count for every partner.
  Barcodes are keyed as GTIN-14 (digits zero-filled to 14), so a UPC-A `058824014093`, its EAN-13
  `0058824014093` and a GTIN-14 are one key; only codes sent under a barcode qualifier are tried as
  barcodes, so a buyer's 8-digit part number never hits an EAN-8 by accident.
- **Prices.** The order is priced from our list (a partner never sets a price silently); a partner
  price further from ours than PRICE_TOLERANCE_PCT puts the order on a `pricing` hold with both shown.
- **The stored purchase order** is plain JSON (`po_to_json` / `po_from_json`), so the 855 / ORDRSP
  can be written days later, when a rep releases the order, from what the partner sent.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from core.edi.purchase_order import (
    Envelope, ItemCode, LineAnswer, LineStatus, OrderAnswer, Party, PoLine, PurchaseOrder,
)

#: qualifiers under which a code is a barcode: X12 235 UP/UA/UK/UN/UI/EN/EA/EO, EDIFACT 7143 EN/SRV/UP
BARCODE_QUALIFIERS = frozenset({"UP", "UA", "UK", "UN", "UI", "EN", "EA", "EO", "SRV"})
#: a partner price this far (percent of ours) from our list price is a pricing question for a rep
PRICE_TOLERANCE_PCT = Decimal("0.5")
GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_key(code: str) -> str | None:
    """The GTIN-14 a barcode stands for (digits zero-filled), or None if `code` is not one."""
    c = (code or "").strip()
    if not (c.isascii() and c.isdigit() and len(c) in GTIN_LENGTHS):
        return None
    return c.zfill(14)


def resolve_sku(line: PoLine, xref: Mapping[tuple[str, str], str], barcodes: Mapping[str, str]) -> str | None:
    """Our SKU for the line, or None when none of its codes resolves."""
    for ic in line.item_codes:
        sku = xref.get((ic.qualifier, ic.code))
        if sku:
            return sku
    for ic in line.item_codes:
        if ic.qualifier in BARCODE_QUALIFIERS:
            key = gtin_key(ic.code)
            if key and key in barcodes:
                return barcodes[key]
    return None


def unknown_item_reason(line: PoLine) -> str:
    """What the rep reads: the line's first code, as the partner sent it."""
    first = line.item_codes[0] if line.item_codes else ItemCode("", "")
    return f"partner item {first.code} ({first.qualifier}) unknown" if first.code else \
        f"partner line {line.line_no or line.position} has no item code"


#: unknown items named one by one in the queue reason; past this many the rest are counted (F4 lists all)
UNKNOWN_SHOWN = 5


def unknown_items_reason(lines: list[PoLine]) -> str | None:
    """The queue reason for the lines whose item code did not resolve: each named, up to UNKNOWN_SHOWN
    (a 64-line order of unknown codes would else bury the rest of the header)."""
    if not lines:
        return None
    named = [unknown_item_reason(ln) for ln in lines[:UNKNOWN_SHOWN]]
    more = len(lines) - UNKNOWN_SHOWN
    return "; ".join(named) + (f"; and {more} more partner item(s) unknown (F4 lists them)" if more > 0 else "")


def price_differs(partner: Decimal | None, ours: Decimal) -> bool:
    """Whether a partner's unit price is beyond the tolerance of ours (no price sent: never)."""
    if partner is None or partner == 0 and ours == 0:
        return False
    if ours == 0:
        return partner != 0
    return abs(partner - ours) * 100 > ours * PRICE_TOLERANCE_PCT


# ---- the purchase order as JSON ------------------------------------------------------------------
def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _party(p: Party) -> dict[str, Any]:
    return {"role": p.role, "name": p.name, "id_qualifier": p.id_qualifier, "id_code": p.id_code,
            "extra_names": list(p.extra_names), "address_lines": list(p.address_lines), "city": p.city,
            "state": p.state, "postal_code": p.postal_code, "country": p.country}


def _line(ln: PoLine) -> dict[str, Any]:
    return {"position": ln.position, "line_no": ln.line_no, "quantity": str(ln.quantity), "unit": ln.unit,
            "unit_price": _dec(ln.unit_price), "item_codes": [[c.qualifier, c.code] for c in ln.item_codes],
            "price_basis": ln.price_basis, "description": ln.description,
            "requested_date": _d(ln.requested_date), "segment_position": ln.segment_position}


def po_to_json(po: PurchaseOrder, envelope: dict[str, object] | None = None) -> str:
    """Everything of the order but its raw segments (kept beside it, for the raw view). `envelope`:
    `po.envelope.as_dict()` made once for the interchange (dataclasses.asdict is a tenth of a big import)."""
    return json.dumps({
        "standard": po.standard, "message_type": po.message_type, "control_number": po.control_number,
        "po_number": po.po_number, "po_date": _d(po.po_date), "purpose": po.purpose, "order_type": po.order_type,
        "requested_date": _d(po.requested_date), "requested_date_qualifier": po.requested_date_qualifier,
        "parties": [_party(p) for p in po.parties], "lines": [_line(ln) for ln in po.lines],
        "envelope": envelope if envelope is not None else po.envelope.as_dict(), "dates": [[q, d.isoformat()] for q, d in po.dates],
        "references": [list(r) for r in po.references], "currency": po.currency,
    })


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def po_from_json(text: str, raw: tuple[str, ...] = ()) -> PurchaseOrder:
    d = json.loads(text)
    return PurchaseOrder(
        standard=d["standard"], message_type=d["message_type"], control_number=d["control_number"],
        po_number=d["po_number"], po_date=_date(d["po_date"]), purpose=d["purpose"], order_type=d["order_type"],
        requested_date=_date(d["requested_date"]), requested_date_qualifier=d["requested_date_qualifier"],
        parties=tuple(Party(**{**p, "extra_names": tuple(p["extra_names"]),
                               "address_lines": tuple(p["address_lines"])}) for p in d["parties"]),
        lines=tuple(PoLine(position=ln["position"], line_no=ln["line_no"], quantity=Decimal(ln["quantity"]),
                           unit=ln["unit"], unit_price=None if ln["unit_price"] is None else Decimal(ln["unit_price"]),
                           item_codes=tuple(ItemCode(q, c) for q, c in ln["item_codes"]),
                           price_basis=ln["price_basis"], description=ln["description"],
                           requested_date=_date(ln["requested_date"]), segment_position=ln["segment_position"])
                    for ln in d["lines"]),
        envelope=Envelope.from_dict(d["envelope"]),
        dates=tuple((q, date.fromisoformat(v)) for q, v in d["dates"]),
        references=tuple((r[0], r[1]) for r in d["references"]), currency=d["currency"], raw_segments=raw)


# ---- our answer ----------------------------------------------------------------------------------
def answer_lines(po: PurchaseOrder, ours: Mapping[int, Mapping[str, Any]], *,
                 ship_date: date | None = None) -> tuple[LineAnswer, ...]:
    """Per partner line (by position): `ours[position]` is what our order holds for it — qty (int),
    unit_price (Decimal), backordered (units short at release, int); a line with no entry was not taken
    (an unresolved item the rep dropped): rejected. A shortfall is backordered (with `ship_date` when
    one is known); a quantity or price other than the partner's is changed; else accepted."""
    out = []
    for ln in po.lines:
        mine = ours.get(ln.position)
        if mine is None:
            out.append(LineAnswer(ln, LineStatus.REJECTED))
            continue
        qty = Decimal(mine["qty"])
        price = mine["unit_price"]
        if mine.get("backordered"):  # the units still to come (QTY+83 / ACK IB); the rest ships now
            out.append(LineAnswer(ln, LineStatus.BACKORDERED, quantity=Decimal(mine["backordered"]),
                                  ship_date=ship_date))
        elif qty != ln.quantity or (ln.unit_price is not None and price != ln.unit_price):
            out.append(LineAnswer(ln, LineStatus.CHANGED, quantity=qty,
                                  unit_price=price if ln.unit_price is not None else None))
        else:
            out.append(LineAnswer(ln, LineStatus.ACCEPTED))
    return tuple(out)


def order_answer(po: PurchaseOrder, ours: Mapping[int, Mapping[str, Any]], today: date) -> OrderAnswer:
    return OrderAnswer(po, answer_lines(po, ours), today)
