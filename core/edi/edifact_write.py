"""Our EDIFACT answers: CONTRL (syntax and service report) and ORDRSP (order response).

Written with pydifact's serializer and the service characters of the interchange answered (its
UNA echoed when it had one), addressed back to its sender, with our interchange reference: the
caller keeps it per partner, increasing and never reused. Numbers use the UNA decimal mark.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydifact.control import Characters
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from core.edi.edifact import EdifactInterchange, element
from core.edi.problems import Problem
from core.edi.purchase_order import Envelope, LineStatus, OrderAnswer, OrderOutcome

#: LIN 1229 action codes: 5 accepted without amendment, 6 accepted with amendment, 3 changed, 7 not accepted
LIN_ACTIONS = {LineStatus.ACCEPTED: "5", LineStatus.BACKORDERED: "6", LineStatus.CHANGED: "3",
               LineStatus.REJECTED: "7"}


def _chars(env: Envelope) -> Characters:
    return Characters.from_str(env.separators) if len(env.separators) == 6 else Characters(decimal_point=".")


def _num(d: Decimal | None, chars: Characters) -> str:
    if d is None:
        return ""
    return format(d.normalize(), "f").replace(".", chars.decimal_point)


def _interchange(env: Envelope, body: list[Segment], message_type: list[str], control_ref: int,
                 now: datetime) -> str:
    if not 0 < control_ref <= 99_999_999_999_999:
        raise ValueError(f"interchange reference {control_ref} is outside 1..99999999999999")
    chars = _chars(env)
    ref = str(control_ref)
    syntax = env.syntax_version.split(":") if env.syntax_version else ["UNOA", "3"]
    segs = [Segment("UNB", syntax, [env.receiver_id, env.receiver_qualifier], [env.sender_id, env.sender_qualifier],
                    [now.strftime("%y%m%d"), now.strftime("%H%M")], ref),
            Segment("UNH", "1", message_type), *body]
    segs.append(Segment("UNT", str(len(body) + 2), "1"))
    segs.append(Segment("UNZ", "1", ref))
    return Serializer(chars).serialize(segs, with_una_header=env.has_una, break_lines="\n" in env.suffix)


def _ucs_ucd(problems: list[Problem]) -> list[Segment]:
    out: list[Segment] = []
    for p in problems:
        if p.segment_id in ("UNH", "UNT") or not p.segment_position:
            continue
        if p.element:
            out.append(Segment("UCS", str(p.segment_position)))
            out.append(Segment("UCD", p.code or "12", [str(p.element), str(p.component or 1)]))
        else:
            out.append(Segment("UCS", str(p.segment_position), p.code or "13"))
    return out


def write_contrl(interchange: EdifactInterchange, outcomes: list[OrderOutcome], control_ref: int,
                 now: datetime) -> str:
    """CONTRL for the interchange: UCI (acknowledged, 7) and one UCM per message (7, or 4 with the
    first problem's code and, below it, UCS/UCD naming each bad segment and element)."""
    by_message = {id(o.message): o for o in outcomes}
    unb = interchange.unb
    body = [Segment("UCI", interchange.control_number, [element(unb, 1), element(unb, 1, 1)],
                    [element(unb, 2), element(unb, 2, 1)], "7")]
    for m in interchange.messages:
        o = by_message.get(id(m)) or OrderOutcome(m, None, list(m.problems) or [
            Problem("message was not read", segment_id="UNH", segment_position=1, code="14")])
        if o.status == "R":
            first = o.problems[0]
            tag = first.segment_id if first.segment_id in ("UNH", "UNT") else ""
            body.append(Segment("UCM", m.control_number, m.identifier, "4", first.code or "12", tag))
            body += _ucs_ucd(o.problems)
        else:
            body.append(Segment("UCM", m.control_number, m.identifier, "7"))
    for s in body:                      # no trailing empty elements ("+7" not "+7++")
        while s.elements and s.elements[-1] == "":
            s.elements.pop()
    return _interchange(interchange.envelope(), body, ["CONTRL", "D", "3", "UN"], control_ref, now)


def write_ordrsp(answer: OrderAnswer, control_ref: int, now: datetime) -> str:
    """ORDRSP for one order: BGM 231 (function 29 accepted, 4 changed, 27 not accepted), RFF+ON the
    order, and per line LIN with its action, QTY 21 ordered / 113 to deliver / 83 backordered."""
    order = answer.order
    chars = _chars(order.envelope)
    function = "27" if answer.all_rejected else ("29" if answer.all_accepted else "4")
    body = [Segment("BGM", "231", f"{order.po_number}-R", function),
            Segment("DTM", ["137", answer.answered_on.strftime("%Y%m%d"), "102"]),
            Segment("RFF", ["ON", order.po_number])]
    if order.po_date:
        body.append(Segment("DTM", ["171", order.po_date.strftime("%Y%m%d"), "102"]))
    for role in ("BY", "DP"):
        p = order.party((role,))
        if p is not None and p.id_code:
            body.append(Segment("NAD", role, [p.id_code, "", p.id_qualifier or "9"]))
    for a in answer.lines:
        ln = a.line
        first = ln.item_codes[0]
        body.append(Segment("LIN", ln.line_no or str(ln.position), LIN_ACTIONS[a.status], [first.code, first.qualifier]))
        for extra in ln.item_codes[1:]:
            body.append(Segment("PIA", "1", [extra.code, extra.qualifier]))
        body.append(Segment("QTY", ["21", _num(ln.quantity, chars)] + ([ln.unit] if ln.unit else [])))
        if a.status is LineStatus.BACKORDERED:
            body.append(Segment("QTY", ["83", _num(a.answered_quantity, chars)]))
        elif a.status is not LineStatus.REJECTED:
            body.append(Segment("QTY", ["113", _num(a.answered_quantity, chars)]))
        if a.ship_date:
            body.append(Segment("DTM", ["2", a.ship_date.strftime("%Y%m%d"), "102"]))
        if a.answered_price is not None:
            body.append(Segment("PRI", ["AAA", _num(a.answered_price, chars)]))
    body.append(Segment("UNS", "S"))
    body.append(Segment("CNT", ["2", str(len(answer.lines))]))
    ident = ["ORDRSP", "D", "96A", "UN"] + (["EAN008"] if order.envelope.group_version.endswith("EAN008") else [])
    return _interchange(order.envelope, body, ident, control_ref, now)
