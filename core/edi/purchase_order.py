"""The purchase order that an X12 850 or an EDIFACT ORDERS message becomes, and our answer to it.

Plain frozen dataclasses, the same for both standards, so whoever maps an EDI order to an
orderq order (partner cross-reference, customer addresses) writes that mapping once. Codes stay
as the partner sent them (party roles BY/ST/DP, item qualifiers UP/EN/BP…): the partner's
cross-reference decides what they mean for us.
"""
from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from core.edi.problems import Problem

#: party roles, by what we use them for; X12 N101 (code list 98) and EDIFACT NAD 3035
BUYER_ROLES = ("BY",)
SHIP_TO_ROLES = ("ST", "DP", "BS")      # BS: X12 "bill and ship to"
BILL_TO_ROLES = ("BT", "IV", "BS", "BI")

_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader builds its segments.

    A 10,000-message interchange is ~900,000 small lists; each few hundred new containers start a
    collection that walks the growing heap, which cost 4.5x the bare split itself (measured here:
    2.9 s of CPU against 0.64 s). Nothing a reader builds holds a cycle, so nothing is lost."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def is_digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and other Unicode digits that int() refuses."""
    return text.isascii() and text.isdigit()


def parse_number(text: str, decimal_mark: str = ".") -> Decimal | None:
    """An EDI numeric value (X12 R/N, EDIFACT n), or None if it is not one. Never raises.

    EDIFACT allows either decimal mark on input whatever UNA says (ISO 9735), so both pass."""
    t = text.strip()
    if decimal_mark != "." or "," in t:
        t = t.replace(",", ".")
    if not _NUMBER.match(t):
        return None
    return Decimal(t)


def parse_ccyymmdd(text: str, century: str = "") -> date | None:
    """CCYYMMDD (or YYMMDD, with the century given or guessed as 20xx below 50), else None."""
    t = text.strip()
    if len(t) == 6 and is_digits(t):
        t = (century if len(century) == 2 and is_digits(century) else ("20" if int(t[:2]) < 50 else "19")) + t
    if len(t) < 8 or not is_digits(t[:8]):
        return None
    try:
        return date(int(t[:4]), int(t[4:6]), int(t[6:8]))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who sent the interchange and how it was written: what an answer needs to go back.

    Plain strings only (`as_dict`/`from_dict` round-trip through JSON), so the integrator can keep
    it with the order and write the 855/ORDRSP days later, when a rep releases the order.
    `separators`: X12 element, component, repetition (or space), segment terminator; EDIFACT the
    six UNA characters. `suffix` is what followed each terminator (e.g. CRLF), echoed in answers.
    """

    standard: str                 # "x12" | "edifact"
    sender_qualifier: str         # ISA05 / UNB S002-2
    sender_id: str                # ISA06 / UNB S002-1
    receiver_qualifier: str       # ISA07 / UNB S003-2
    receiver_id: str              # ISA08 / UNB S003-1
    control_reference: str        # ISA13 / UNB 0020: the interchange reference, for duplicates
    syntax_version: str           # ISA12 / UNB S001 "UNOA:3"
    separators: str
    suffix: str = ""
    group_sender: str = ""        # GS02
    group_receiver: str = ""      # GS03
    group_version: str = ""       # GS08 / UNH S009 "D:96A:UN:EAN008"
    group_control: str = ""       # GS06
    usage: str = "P"              # ISA15 P/T; EDIFACT UNB test indicator "1" → T
    has_una: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Envelope:
        return cls(**data)  # type: ignore[arg-type]


class ItemCode(NamedTuple):
    """One partner code for the item: qualifier as sent (X12 235: UP, EN, BP, VN, IN…; EDIFACT 7143).
    A NamedTuple, not a dataclass: a big interchange makes hundreds of thousands (3x cheaper)."""

    qualifier: str
    code: str

    def __str__(self) -> str:
        return f"{self.code} ({self.qualifier})"


@dataclass(frozen=True, slots=True)
class Party:
    """An N1 loop or a NAD: the role, the partner's code for the party, and the address if sent."""

    role: str
    name: str = ""
    id_qualifier: str = ""        # X12 N103 (92 buyer-assigned, UL GLN, 9 DUNS…); EDIFACT agency (9 GS1)
    id_code: str = ""
    extra_names: tuple[str, ...] = ()
    address_lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class PoLine:
    """One PO1 (or LIN group). `position` is 1.. in the message; `line_no` is what the partner numbered."""

    position: int
    line_no: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    item_codes: tuple[ItemCode, ...]
    price_basis: str = ""
    description: str = ""
    requested_date: date | None = None
    segment_position: int = 0     # where PO1/LIN sits in the message, for AK3 and the raw view

    def code(self, *qualifiers: str) -> str | None:
        """The first code with one of these qualifiers (in the order asked), or None."""
        for q in qualifiers:
            for c in self.item_codes:
                if c.qualifier == q:
                    return c.code
        return None


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """One 850 / ORDERS message as data. `raw_segments` are the message's own segments (ST…SE,
    UNH…UNT) as they arrived, one string per segment, for the "raw" view."""

    standard: str                 # "x12" | "edifact"
    message_type: str             # "850" | "ORDERS"
    control_number: str           # ST02 / UNH 0062
    po_number: str                # BEG03 / BGM 1004
    po_date: date | None          # BEG05 / DTM 137
    purpose: str                  # BEG01 / BGM 1225 (00 original, 9 original…)
    order_type: str               # BEG02 / BGM 1001
    requested_date: date | None
    requested_date_qualifier: str  # the DTM qualifier the requested date came from ("" when none)
    parties: tuple[Party, ...]
    lines: tuple[PoLine, ...]
    envelope: Envelope
    dates: tuple[tuple[str, date], ...] = ()          # every header DTM that parsed, qualifier → date
    references: tuple[tuple[str, str], ...] = ()      # REF / RFF qualifier → value
    currency: str = ""
    raw_segments: tuple[str, ...] = field(default=(), repr=False)

    @property
    def interchange_reference(self) -> str:
        return self.envelope.control_reference

    def party(self, roles: tuple[str, ...]) -> Party | None:
        for r in roles:
            for p in self.parties:
                if p.role == r:
                    return p
        return None

    @property
    def buyer(self) -> Party | None:
        return self.party(BUYER_ROLES)

    @property
    def ship_to(self) -> Party | None:
        return self.party(SHIP_TO_ROLES)

    @property
    def bill_to(self) -> Party | None:
        return self.party(BILL_TO_ROLES)


class LineStatus(StrEnum):
    """What we do with one ordered line (855 ACK01 / ORDRSP LIN action)."""

    ACCEPTED = "accepted"
    BACKORDERED = "backordered"
    CHANGED = "changed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """Our answer to one line. `quantity`/`unit_price` default to the ordered ones; `ship_date` is
    when a backordered (or changed) line is expected to ship."""

    line: PoLine
    status: LineStatus
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    ship_date: date | None = None

    @property
    def answered_quantity(self) -> Decimal:
        if self.status is LineStatus.REJECTED:
            return Decimal(0)
        return self.line.quantity if self.quantity is None else self.quantity

    @property
    def answered_price(self) -> Decimal | None:
        return self.line.unit_price if self.unit_price is None else self.unit_price


@dataclass(frozen=True, slots=True)
class OrderAnswer:
    """A purchase-order acknowledgment (855 / ORDRSP) before it is written."""

    order: PurchaseOrder
    lines: tuple[LineAnswer, ...]
    answered_on: date

    @property
    def all_accepted(self) -> bool:
        return all(a.status is LineStatus.ACCEPTED for a in self.lines)

    @property
    def all_rejected(self) -> bool:
        return bool(self.lines) and all(a.status is LineStatus.REJECTED for a in self.lines)


@dataclass(slots=True)
class OrderOutcome:
    """One message read (X12 ST…SE or EDIFACT UNH…UNT): the order, or the problems that rejected
    it; warnings either way. `status`: A accepted, E accepted with errors noted, R rejected (997 AK5)."""

    message: Any                     # X12Message | EdifactMessage: has control_number, type, raw
    order: PurchaseOrder | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.order is None or self.problems:
            return "R"
        return "E" if self.warnings else "A"

    @property
    def reason(self) -> str:
        """One line for a rejects file or a rep: the first problem (or warning), with where."""
        first = (self.problems or self.warnings or [None])[0]
        return f"message {self.message.control_number}: {first}" if first else ""


def raw_to_text(segments: tuple[str, ...] | list[str]) -> str:
    """The raw segments as stored: a JSON list, so a line break inside an element (the parsers let CR,
    LF and NEL through) never splits one segment into two on the way back."""
    import json

    return json.dumps(list(segments), ensure_ascii=False)


def raw_from_text(text: str) -> list[str]:
    """The raw segments back, one string a segment. Rows stored before the JSON list (a segment id never
    starts with `[`) were joined by LF: split on LF only, not on every line break `splitlines` knows."""
    import json

    return json.loads(text) if text.startswith("[") else text.split("\n")
