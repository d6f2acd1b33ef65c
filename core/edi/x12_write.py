"""Our X12 answers: the 997 functional acknowledgment and the 855 purchase-order acknowledgment.

Each is written with the separators of the interchange it answers (and the same text after each
terminator), addressed back to its sender, with our control numbers: the caller keeps them per
partner, increasing and never reused, and passes them in with the clock. Shapes follow the
partners' own samples (../shared/data/edi/x12/997-*, 855-*).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.edi.problems import Problem
from core.edi.purchase_order import Envelope, LineAnswer, LineStatus, OrderAnswer, OrderOutcome
from core.edi.x12 import X12Interchange

#: ACK01 line item status codes (X12 668)
ACK_CODES = {LineStatus.ACCEPTED: "IA", LineStatus.BACKORDERED: "IB", LineStatus.REJECTED: "IR"}
ACK_CHANGED = {"qty": "IQ", "price": "IP", "both": "IC"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Controls:
    """Our control numbers for one outgoing interchange (ISA13, GS06); ST02 counts from 0001 inside it."""

    interchange: int
    group: int

    def __post_init__(self) -> None:
        for name, v in (("interchange", self.interchange), ("group", self.group)):
            if not 0 < v <= 999_999_999:
                raise ValueError(f"{name} control number {v} is outside 1..999999999")


class _Writer:
    """Segments joined with the answered interchange's separators; values cleaned of them."""

    def __init__(self, env: Envelope) -> None:
        seps = env.separators
        self.elem, self.comp, self.rep, self.term = seps[0], seps[1], seps[2].strip(), seps[3]
        self.suffix = env.suffix
        self._bad = {self.elem, self.comp, self.term} | ({self.rep} if self.rep else set())

    def clean(self, value: object) -> str:
        text = _CONTROL.sub(" ", str(value))
        return "".join(" " if ch in self._bad else ch for ch in text) if self._bad & set(text) else text

    def segment(self, *values: object) -> str:
        els = [self.clean(v) for v in values]
        while len(els) > 1 and els[-1] == "":
            els.pop()
        return self.elem.join(els) + self.term + self.suffix


def _number(d: Decimal | None) -> str:
    if d is None:
        return ""
    return format(d.normalize(), "f")


def _envelope(env: Envelope, functional_id: str, sets: list[tuple[str, list[list[object]]]], controls: Controls,
              now: datetime) -> str:
    """ISA/GS around the given transaction sets (type, body segments without ST/SE), reply-addressed."""
    w = _Writer(env)
    isa = ["ISA", "00", " " * 10, "00", " " * 10,
           env.receiver_qualifier.ljust(2)[:2], env.receiver_id.ljust(15)[:15],
           env.sender_qualifier.ljust(2)[:2], env.sender_id.ljust(15)[:15],
           now.strftime("%y%m%d"), now.strftime("%H%M"), w.rep or "U", (env.syntax_version or "00401")[:5].rjust(5, "0"),
           f"{controls.interchange:09d}", "0", env.usage if env.usage in ("P", "T") else "P", w.comp]
    out = [w.elem.join(w.clean(v) if i not in (11, 16) else v for i, v in enumerate(isa)) + w.term + w.suffix]
    out.append(w.segment("GS", functional_id, env.group_receiver or env.receiver_id,
                         env.group_sender or env.sender_id, now.strftime("%Y%m%d"), now.strftime("%H%M"),
                         controls.group, "X", env.group_version or "004010"))
    for n, (set_type, body) in enumerate(sets, start=1):
        st = f"{n:04d}"
        out.append(w.segment("ST", set_type, st))
        out += [w.segment(*seg) for seg in body]
        out.append(w.segment("SE", len(body) + 2, st))
    out.append(w.segment("GE", len(sets), controls.group))
    out.append(w.segment("IEA", 1, f"{controls.interchange:09d}"))
    return "".join(out)


# ---- 997 --------------------------------------------------------------------------------------
def _is_envelope(p: Problem) -> bool:
    """ST/SE problems are the transaction set's own (AK5-02 codes), not a segment's (AK3)."""
    return p.segment_id in ("ST", "SE")


def _ak3_ak4(problems: list[Problem], comp: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for p in problems:
        if _is_envelope(p) or not p.segment_id:
            continue
        if p.element:
            rows.append(["AK3", p.segment_id, p.segment_position, "", "8"])
            where = f"{p.element}{comp}{p.component}" if p.component else p.element
            rows.append(["AK4", where, p.element_ref, p.code or "6", p.bad_value[:99]])
        else:
            rows.append(["AK3", p.segment_id, p.segment_position, "", p.code or "8"])
    return rows


def _ak5(outcome: OrderOutcome) -> list[object]:
    status = outcome.status
    listed = outcome.problems if status == "R" else outcome.warnings
    codes: list[str] = []
    for p in listed:
        code = p.code if _is_envelope(p) and p.code else "5"
        if code not in codes:
            codes.append(code)
    return ["AK5", status, *codes[:5]] if status != "A" else ["AK5", "A"]


def group_status(statuses: list[str]) -> str:
    """AK9-01: A all accepted, E all accepted with errors noted, P some rejected, R all rejected."""
    if not statuses or all(s == "R" for s in statuses):
        return "R"
    if any(s == "R" for s in statuses):
        return "P"
    return "E" if any(s == "E" for s in statuses) else "A"


def write_997(interchange: X12Interchange, outcomes: list[OrderOutcome], controls: Controls, now: datetime) -> str:
    """One 997 interchange answering every functional group of `interchange` (one ST*997 per GS).

    `outcomes` are what `read_x12_orders` (or a caller's own mapping) made of its messages."""
    by_message: dict[int, OrderOutcome] = {id(o.message): o for o in outcomes}
    comp = interchange.separators.component
    sets = []
    for g in interchange.groups:
        body: list[list[object]] = [["AK1", g.functional_id, g.control_number]]
        statuses = []
        for m in g.messages:
            o = by_message.get(id(m)) or OrderOutcome(m, None, list(m.problems) or [
                Problem("transaction set was not read", segment_id="ST", segment_position=1, code="1")])
            statuses.append(o.status)
            body.append(["AK2", m.type, m.control_number])
            body += _ak3_ak4(o.problems if o.status == "R" else o.warnings, comp)
            body.append(_ak5(o))
        accepted = sum(1 for s in statuses if s != "R")
        status = group_status(statuses)
        body.append(["AK9", status, len(g.messages), len(g.messages), accepted] + (["5"] if status in "PR" else []))
        sets.append(("997", body))
    env = interchange.envelope(interchange.groups[0] if interchange.groups else None)
    return _envelope(env, "FA", sets, controls, now)


# ---- 855 --------------------------------------------------------------------------------------
def ack_code(answer: LineAnswer) -> str:
    """ACK01 for one line: IA/IB/IR, and for a change IQ (quantity), IP (price) or IC (both)."""
    if answer.status is not LineStatus.CHANGED:
        return ACK_CODES[answer.status]
    qty = answer.quantity is not None and answer.quantity != answer.line.quantity
    price = answer.unit_price is not None and answer.unit_price != answer.line.unit_price
    return ACK_CHANGED["both" if qty == price else ("qty" if qty else "price")]


def write_855(answer: OrderAnswer, controls: Controls, now: datetime) -> str:
    """The purchase-order acknowledgment of one order, line by line (PO1 echoed, ACK with our status)."""
    order = answer.order
    if answer.all_rejected:
        bak02 = "RJ"
    elif answer.all_accepted:
        bak02 = "AD"
    else:
        bak02 = "AC"
    po_date = (order.po_date or answer.answered_on).strftime("%Y%m%d")
    body: list[list[object]] = [["BAK", "00", bak02, order.po_number, po_date, "", "", "", "",
                                 answer.answered_on.strftime("%Y%m%d")]]
    ship_to = order.ship_to
    if ship_to is not None:
        body.append(["N1", ship_to.role, ship_to.name, ship_to.id_qualifier if ship_to.id_code else "",
                     ship_to.id_code])
    total = Decimal(0)
    for a in answer.lines:
        ln = a.line
        pairs = [v for c in ln.item_codes for v in (c.qualifier, c.code)]
        body.append(["PO1", ln.line_no, _number(ln.quantity), ln.unit, _number(a.answered_price), ln.price_basis,
                     *pairs])
        qty = ln.quantity if a.status is LineStatus.REJECTED else a.answered_quantity
        total += ln.quantity
        date_part = ["068", a.ship_date.strftime("%Y%m%d")] if a.ship_date else []
        body.append(["ACK", ack_code(a), _number(qty), ln.unit, *date_part])
    body.append(["CTT", len(answer.lines), _number(total)])
    return _envelope(order.envelope, "PR", [("855", body)], controls, now)

