"""An EDIFACT ORDERS message as the same `PurchaseOrder` an X12 850 becomes.

Read: BGM (number, function), DTM (137 document date; 2/10/64/63/69 the requested date), RFF,
CUX, NAD (BY/DP/IV/SU…, GLN with its agency), LIN with PIA, IMD, QTY+21, PRI, DTM under it.
EANCOM LINs often carry only a GTIN (`:EN`) and no price: unit_price is then None.
Problem codes are CONTRL's (0085): 12 invalid value, 13 missing, 14 not supported here.
"""
from __future__ import annotations

from datetime import date

from pydifact.segments import Segment

from core.edi.edifact import EdifactInterchange, EdifactMessage, components, element
from core.edi.problems import Problem
from core.edi.purchase_order import (ItemCode, OrderOutcome, Party, PoLine, PurchaseOrder, parse_ccyymmdd,
                                     parse_number)

REQUESTED_DATE_QUALIFIERS = ("2", "10", "64", "63", "69")


def edifact_date(seg: Segment) -> tuple[str, date | None]:
    """DTM C507 → (qualifier, date): formats 102 CCYYMMDD, 203/204 with a time, 101 YYMMDD."""
    qual, value, fmt = element(seg, 0, 0), element(seg, 0, 1), element(seg, 0, 2) or "102"
    if fmt in ("102", "203", "204") and len(value) >= 8:
        return qual, parse_ccyymmdd(value[:8])
    if fmt == "101" and len(value) == 6:
        return qual, parse_ccyymmdd(value)
    return qual, None


def _bad(seg: Segment, pos: int, el: int, comp: int, reason: str, code: str = "12") -> Problem:
    return Problem(reason, segment_id=seg.tag, segment_position=pos, element=el, component=comp, code=code,
                   bad_value=element(seg, el - 1, max(comp - 1, 0))[:80])


def read_orders_message(msg: EdifactMessage, ic: EdifactInterchange) -> OrderOutcome:
    problems, warnings = list(msg.problems), list(msg.warnings)
    if msg.type != "ORDERS":
        problems.append(Problem(f"message type {msg.type!r} is not a purchase order (ORDERS)", segment_id="UNH",
                                segment_position=1, element=2, code="14"))
        return OrderOutcome(msg, None, problems, warnings)
    decimal = ic.characters.decimal_point
    bgm: tuple[Segment, int] | None = None
    po_date: date | None = None
    dates: list[tuple[str, date]] = []
    refs: list[tuple[str, str]] = []
    parties: list[Party] = []
    lines: list[dict] = []
    currency = ""
    for pos, seg in enumerate(msg.segments, start=1):
        tag = seg.tag
        if tag == "BGM":
            bgm = (seg, pos)
        elif tag == "DTM":
            qual, d = edifact_date(seg)
            if d is None:
                warnings.append(_bad(seg, pos, 1, 2, f"DTM {qual} date {element(seg, 0, 1)!r} does not parse"))
            elif lines:
                if lines[-1]["requested_date"] is None and qual in REQUESTED_DATE_QUALIFIERS:
                    lines[-1]["requested_date"] = d
            elif qual == "137":
                po_date = d
            else:
                dates.append((qual, d))
        elif tag == "RFF" and not lines:
            refs.append((element(seg, 0, 0), element(seg, 0, 1)))
        elif tag == "CUX" and not currency:
            currency = element(seg, 0, 1)
        elif tag == "NAD" and not lines:
            street = [c.strip() for c in components(seg, 4) if c.strip()]
            names = [c.strip() for c in components(seg, 3) if c.strip()]
            parties.append(Party(role=element(seg, 0), name=names[0] if names else "",
                                 id_qualifier=element(seg, 1, 2), id_code=element(seg, 1, 0),
                                 extra_names=tuple(names[1:]), address_lines=tuple(street), city=element(seg, 5),
                                 state=element(seg, 6), postal_code=element(seg, 7), country=element(seg, 8)))
        elif tag == "LIN":
            codes = [ItemCode(element(seg, 2, 1), element(seg, 2, 0))] if element(seg, 2, 0) else []
            lines.append({"line_no": element(seg, 0), "codes": codes, "quantity": None, "unit": "", "price": None,
                          "descriptions": [], "requested_date": None, "pos": pos, "seg": seg})
        elif tag == "PIA" and lines:
            for i in range(1, min(len(seg.elements), 6)):
                if element(seg, i, 0):
                    lines[-1]["codes"].append(ItemCode(element(seg, i, 1), element(seg, i, 0)))
        elif tag == "IMD" and lines:
            text = " ".join(c.strip() for c in components(seg, 2)[3:5] if c.strip())
            if text:
                lines[-1]["descriptions"].append(text)
        elif tag == "QTY" and lines and element(seg, 0, 0) == "21":
            qty = parse_number(element(seg, 0, 1), decimal)
            if qty is None or qty <= 0:
                problems.append(_bad(seg, pos, 1, 2, f"line {len(lines)}: quantity {element(seg, 0, 1)[:20]!r} "
                                     "is not a number above zero"))
                lines[-1]["bad"] = True
            else:
                lines[-1]["quantity"], lines[-1]["unit"] = qty, element(seg, 0, 2)
        elif tag == "PRI" and lines:
            price = parse_number(element(seg, 0, 1), decimal)
            if price is None or price < 0:
                problems.append(_bad(seg, pos, 1, 2, f"line {len(lines)}: price {element(seg, 0, 1)[:20]!r} "
                                     "is not a price"))
                lines[-1]["bad"] = True
            elif lines[-1]["price"] is None or element(seg, 0, 0) == "AAA":
                lines[-1]["price"] = price
    if bgm is None or not element(bgm[0], 1):
        problems.append(Problem("no order number: BGM is missing or its 1004 is empty", segment_id="BGM",
                                segment_position=bgm[1] if bgm else 2, element=2 if bgm else 0, code="13"))
    for n, ln in enumerate(lines, start=1):
        if ln.get("bad"):
            continue
        if ln["quantity"] is None:
            problems.append(Problem(f"line {n}: no ordered quantity (QTY+21)", segment_id="QTY",
                                    segment_position=ln["pos"], code="13"))
        if not ln["codes"]:
            problems.append(Problem(f"line {n}: LIN names no item (no code in LIN or PIA)", segment_id="LIN",
                                    segment_position=ln["pos"], element=3, code="13"))
    if not lines:
        problems.append(Problem("no LIN line: the order has nothing on it", segment_id="LIN",
                                segment_position=len(msg.segments), code="13"))
    if problems or bgm is None:
        return OrderOutcome(msg, None, problems, warnings)
    requested, qualifier = None, ""
    for q in REQUESTED_DATE_QUALIFIERS:
        hit = next((d for qual, d in dates if qual == q), None)
        if hit is not None:
            requested, qualifier = hit, q
            break
    if requested is None:
        line_dates = [ln["requested_date"] for ln in lines if ln["requested_date"]]
        requested, qualifier = (min(line_dates), "line") if line_dates else (None, "")
    seg = bgm[0]
    order = PurchaseOrder(
        standard="edifact", message_type="ORDERS", control_number=msg.control_number,
        po_number=element(seg, 1), po_date=po_date, purpose=element(seg, 2), order_type=element(seg, 0),
        requested_date=requested, requested_date_qualifier=qualifier, parties=tuple(parties),
        lines=tuple(PoLine(position=n, line_no=ln["line_no"], quantity=ln["quantity"], unit=ln["unit"],
                           unit_price=ln["price"], item_codes=tuple(ln["codes"]),
                           description="; ".join(ln["descriptions"]), requested_date=ln["requested_date"],
                           segment_position=ln["pos"]) for n, ln in enumerate(lines, start=1)),
        envelope=ic.envelope(), dates=tuple(dates), references=tuple(refs), currency=currency,
        raw_segments=tuple(msg.raw))
    return OrderOutcome(msg, order, problems, warnings)


def read_edifact_orders(ic: EdifactInterchange) -> list[OrderOutcome]:
    """Every message of the interchange, in order: orders for the good ones, problems for the bad."""
    return [read_orders_message(m, ic) for m in ic.messages]
