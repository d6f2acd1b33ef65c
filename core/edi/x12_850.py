"""An X12 850 message as a `PurchaseOrder`, or the problems that keep it from being one.

Only what an order desk needs is read (BEG, CUR, REF, DTM, N1/N2/N3/N4, PO1 with PID, DTM and SCH
under it, CTT); everything else stays in `raw_segments`. A problem here rejects only this
message (997 AK5 R with AK3/AK4); a warning keeps the order and is noted (AK5 E).
"""
from __future__ import annotations

from datetime import date

from core.edi.problems import Problem
from core.edi.purchase_order import (Envelope, ItemCode, OrderOutcome, Party, PoLine, PurchaseOrder, gc_paused, is_digits,
                                     parse_ccyymmdd, parse_number)
from core.edi.x12 import X12Interchange, X12Message

#: header DTM01 qualifiers that say when the buyer wants the goods, most telling first:
#: 002 delivery requested, 010 requested ship, 106 required by, 118 requested pick-up,
#: 037 ship not before, 064 do not deliver before, 038 ship no later, 063 do not deliver after
REQUESTED_DATE_QUALIFIERS = ("002", "010", "106", "118", "037", "064", "038", "063")

#: X12 data element reference numbers, for AK4-02
_REF = {("BEG", 3): "324", ("BEG", 5): "373", ("PO1", 2): "330", ("PO1", 4): "212", ("DTM", 2): "373"}


def _el(seg: list[str], i: int) -> str:
    return seg[i].strip() if i < len(seg) else ""


def _bad(seg: list[str], pos: int, i: int, reason: str, code: str) -> Problem:
    return Problem(reason, segment_id=seg[0], segment_position=pos, element=i, element_ref=_REF.get((seg[0], i), ""),
                   code=code, bad_value=_el(seg, i)[:80])


def read_850(message: X12Message, envelope: Envelope) -> OrderOutcome:
    """Map one transaction set. Envelope problems of the message (SE count…) are carried over."""
    problems = list(message.problems)
    warnings = list(message.warnings)
    if message.type != "850":
        problems.append(Problem(f"transaction set {message.type!r} is not a purchase order (850)",
                                segment_id="ST", segment_position=1, element=1, code="1"))
        return OrderOutcome(message, None, problems, warnings)
    beg: list[str] | None = None
    beg_pos = 0
    currency = ""
    dates: list[tuple[str, date]] = []
    refs: list[tuple[str, str]] = []
    parties: list[dict] = []
    lines: list[dict] = []
    ctt: tuple[list[str], int] | None = None
    for pos, seg in enumerate(message.segments, start=1):
        sid = seg[0]
        if sid == "BEG":
            beg, beg_pos = seg, pos
        elif sid == "CUR":
            currency = _el(seg, 2)
        elif sid == "REF" and not lines:
            refs.append((_el(seg, 1), _el(seg, 2) or _el(seg, 3)))
        elif sid == "DTM":
            d = parse_ccyymmdd(_el(seg, 2), _el(seg, 5))
            if d is None:
                warnings.append(_bad(seg, pos, 2, f"DTM {_el(seg, 1)} date {_el(seg, 2)!r} is not CCYYMMDD", "8"))
            elif lines:
                if lines[-1]["requested_date"] is None and _el(seg, 1) in REQUESTED_DATE_QUALIFIERS:
                    lines[-1]["requested_date"] = d
            else:
                dates.append((_el(seg, 1), d))
        elif sid == "N1":
            if lines:
                continue                       # N1 under a line (ship-to per line): kept in raw only
            parties.append({"role": _el(seg, 1), "name": _el(seg, 2), "id_qualifier": _el(seg, 3),
                            "id_code": _el(seg, 4), "extra_names": [], "address_lines": []})
        elif sid in ("N2", "N3", "N4") and parties and not lines:
            p = parties[-1]
            if sid == "N2":
                p["extra_names"] += [v.strip() for v in seg[1:3] if v.strip()]
            elif sid == "N3":
                p["address_lines"] += [v.strip() for v in seg[1:3] if v.strip()]
            else:
                p.update(city=_el(seg, 1), state=_el(seg, 2), postal_code=_el(seg, 3), country=_el(seg, 4))
        elif sid == "PO1":
            line = _read_po1(seg, pos, len(lines) + 1, problems)
            if line is not None:
                lines.append(line)
        elif sid == "CTP" and lines and _el(seg, 2) == "UCP" and lines[-1]["unit_price"] is None:
            lines[-1]["unit_price"] = parse_number(_el(seg, 3))   # VICS: the unit cost is in CTP, not PO104
        elif sid == "PID" and lines:
            text = _el(seg, 5)
            if text:
                lines[-1]["descriptions"].append(text)
        elif sid == "SCH" and lines:
            d = parse_ccyymmdd(_el(seg, 6))
            if d is not None and lines[-1]["requested_date"] is None:
                lines[-1]["requested_date"] = d
        elif sid == "CTT":
            ctt = (seg, pos)
    if beg is None:
        problems.append(Problem("no BEG segment: the message has no purchase order number", segment_id="BEG",
                                segment_position=2, code="3"))
    else:
        if not _el(beg, 3):
            problems.append(_bad(beg, beg_pos, 3, "BEG03 purchase order number is empty", "1"))
        if _el(beg, 5) and parse_ccyymmdd(_el(beg, 5)) is None:
            problems.append(_bad(beg, beg_pos, 5, f"BEG05 date {_el(beg, 5)!r} is not CCYYMMDD", "8"))
    if not lines and not any(p.segment_id == "PO1" for p in problems):
        problems.append(Problem("no PO1 line: the order has nothing on it", segment_id="PO1",
                                segment_position=len(message.segments), code="3"))
    if ctt is not None and is_digits(_el(ctt[0], 1)) and int(_el(ctt[0], 1)) != len(lines) and not problems:
        warnings.append(_bad(ctt[0], ctt[1], 1, f"CTT01 says {_el(ctt[0], 1)} lines, the message has {len(lines)}",
                             "7"))
    if problems or beg is None:
        return OrderOutcome(message, None, problems, warnings)
    requested, qualifier = _requested(dates, lines)
    order = PurchaseOrder(
        standard="x12", message_type="850", control_number=message.control_number, po_number=_el(beg, 3),
        po_date=parse_ccyymmdd(_el(beg, 5)), purpose=_el(beg, 1), order_type=_el(beg, 2),
        requested_date=requested, requested_date_qualifier=qualifier,
        parties=tuple(Party(**{**p, "extra_names": tuple(p["extra_names"]),
                               "address_lines": tuple(p["address_lines"])}) for p in parties),
        lines=tuple(PoLine(position=ln["position"], line_no=ln["line_no"], quantity=ln["quantity"], unit=ln["unit"],
                           unit_price=ln["unit_price"], item_codes=ln["item_codes"], price_basis=ln["price_basis"],
                           description="; ".join(ln["descriptions"]), requested_date=ln["requested_date"],
                           segment_position=ln["segment_position"]) for ln in lines),
        envelope=envelope, dates=tuple(dates), references=tuple(refs), currency=currency,
        raw_segments=tuple(message.raw))
    return OrderOutcome(message, order, problems, warnings)


def _read_po1(seg: list[str], pos: int, n: int, problems: list[Problem]) -> dict | None:
    qty_text = _el(seg, 2)
    if not qty_text:
        problems.append(_bad(seg, pos, 2, f"line {n}: PO102 quantity is missing", "1"))
        return None
    qty = parse_number(qty_text)
    if qty is None:
        problems.append(_bad(seg, pos, 2, f"line {n}: quantity {qty_text[:20]!r} is not a number", "6"))
        return None
    if qty <= 0:
        problems.append(_bad(seg, pos, 2, f"line {n}: quantity {qty_text!r} is not above zero", "7"))
        return None
    price_text = _el(seg, 4)
    price = parse_number(price_text) if price_text else None
    if price_text and (price is None or price < 0):
        problems.append(_bad(seg, pos, 4, f"line {n}: unit price {price_text[:20]!r} is not a price", "6"))
        return None
    pairs = ((seg[i].strip(), seg[i + 1].strip()) for i in range(6, len(seg) - 1, 2))
    codes = tuple(ItemCode(q, c) for q, c in pairs if q and c)
    if not codes:
        problems.append(Problem(f"line {n}: PO1 names no item (no qualifier/code pair from PO106)",
                                segment_id="PO1", segment_position=pos, element=6, element_ref="235", code="2"))
        return None
    return {"position": n, "line_no": _el(seg, 1), "quantity": qty, "unit": _el(seg, 3), "unit_price": price,
            "price_basis": _el(seg, 5), "item_codes": codes, "descriptions": [], "requested_date": None,
            "segment_position": pos}


def _requested(dates: list[tuple[str, date]], lines: list[dict]) -> tuple[date | None, str]:
    """The header's requested date by qualifier preference; else the earliest line date ("line")."""
    for q in REQUESTED_DATE_QUALIFIERS:
        for qual, d in dates:
            if qual == q:
                return d, q
    line_dates = [ln["requested_date"] for ln in lines if ln["requested_date"] is not None]
    return (min(line_dates), "line") if line_dates else (None, "")


def read_x12_orders(interchange: X12Interchange) -> list[OrderOutcome]:
    """Every message of the interchange, in order: orders for the good ones, problems for the bad."""
    out = []
    with gc_paused():
        for group in interchange.groups:
            env = interchange.envelope(group)
            out += [read_850(m, env) for m in group.messages]
    return out
