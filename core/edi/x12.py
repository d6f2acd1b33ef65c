"""A small ANSI X12 reader: separators from the ISA, segments, and the envelope checked.

No maintained general X12 parser exists on PyPI (pyx12 maps only healthcare sets), and the
syntax is small: ISA is fixed-width, so its 4th character is the element separator, ISA16 the
component separator and the character after ISA16 the segment terminator. Newlines between
segments are tolerated (or are the terminator itself). What is checked and how it fails:

- the file as a whole (`EdiRefused`, nothing may be written): empty, binary, not ISA, a segment
  over `MAX_SEGMENT` characters, a segment outside ST…SE, GS/GE or ISA/IEA missing, control
  numbers or counts that do not match (ISA13/IEA02, IEA01, GS06/GE02, GE01);
- one message (a `Problem` on that `X12Message`, the others go on): ST02/SE02, SE01 count,
  missing SE, a bad segment id or control characters inside it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.edi.problems import Problem, refuse
from core.edi.purchase_order import Envelope, gc_paused, is_digits

ISA_LENGTH = 106
MAX_SEGMENT = 10_000
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_CONTROL_CHARS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
_CONTROL = re.compile("[" + "".join(re.escape(c) for c in _CONTROL_CHARS) + "]")
_NEWLINES = "\r\n"


@dataclass(frozen=True, slots=True)
class Separators:
    element: str
    component: str
    repetition: str          # "" when the version has none (before 00402) or ISA11 is a code
    segment: str
    suffix: str = ""         # what followed the ISA terminator: "\n", "\r\n" or ""

    def as_text(self) -> str:
        return self.element + self.component + (self.repetition or " ") + self.segment


@dataclass(slots=True)
class X12Message:
    """One ST…SE transaction set. `segments[i]` is the list of elements ([0] is the id);
    `raw[i]` the same segment as it arrived. `problems` reject it; `warnings` are noted (997 E)."""

    type: str
    control_number: str
    position: int                    # position of ST in the file (1-based)
    segments: list[list[str]]
    raw: list[str]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class X12Group:
    functional_id: str              # GS01: PO, PR, FA…
    sender: str
    receiver: str
    control_number: str             # GS06
    version: str                    # GS08
    agency: str                     # GS07
    messages: list[X12Message] = field(default_factory=list)


@dataclass(slots=True)
class X12Interchange:
    separators: Separators
    isa: list[str]                  # the ISA elements, [0] == "ISA", values unpadded
    groups: list[X12Group]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.isa[13]

    @property
    def messages(self) -> list[X12Message]:
        return [m for g in self.groups for m in g.messages]

    def envelope(self, group: X12Group | None = None) -> Envelope:
        """The answer-side data of this interchange (and of one of its groups)."""
        g = group or (self.groups[0] if self.groups else None)
        return Envelope(
            standard="x12", sender_qualifier=self.isa[5], sender_id=self.isa[6],
            receiver_qualifier=self.isa[7], receiver_id=self.isa[8], control_reference=self.isa[13],
            syntax_version=self.isa[12], separators=self.separators.as_text(), suffix=self.separators.suffix,
            group_sender=g.sender if g else "", group_receiver=g.receiver if g else "",
            group_version=g.version if g else "", group_control=g.control_number if g else "",
            usage=self.isa[15] or "P")


def decode(data: bytes | str) -> str:
    """Bytes as text: UTF-8 when it is, else Latin-1 (X12 is ASCII; partners' extended sets vary)."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_separators(text: str) -> Separators:
    """The separators of the ISA that starts `text` (already stripped of leading blanks)."""
    if len(text) < ISA_LENGTH:
        raise refuse(f"truncated interchange: the ISA segment has {len(text)} characters, {ISA_LENGTH} expected",
                     segment_id="ISA", position=1)
    elem = text[3]
    if elem.isalnum() or elem in " \r\n":
        raise refuse(f"ISA element separator {elem!r} is not a separator", segment_id="ISA", position=1)
    if text[103] != elem or text.count(elem, 0, 104) != 16:
        raise refuse("the ISA segment is not fixed-width: ISA16 is not at position 105",
                     segment_id="ISA", position=1, element=16)
    comp, term = text[104], text[105]
    if term.isalnum() or term == " " or len({elem, comp, term}) < 3:
        raise refuse(f"ISA separators {elem!r}, {comp!r}, {term!r} are not three distinct separators",
                     segment_id="ISA", position=1, element=16)
    rep = text[82]
    version = text[84:89]
    repetition = rep if (version >= "00402" and not rep.isalnum() and rep not in (elem, comp, term, " ")) else ""
    suffix = ""
    if term not in _NEWLINES:
        rest = text[106:108]
        suffix = "\r\n" if rest == "\r\n" else ("\n" if rest[:1] == "\n" else ("\r" if rest[:1] == "\r" else ""))
    return Separators(elem, comp, repetition, term, suffix)


def _same(a: str, b: str) -> bool:
    """Control numbers match as written, or as numbers (GS06 "5" and GE02 "0005")."""
    a, b = a.strip(), b.strip()
    return a == b or (is_digits(a) and is_digits(b) and int(a) == int(b))


def _count(value: str, what: str, seg: str, pos: int, element: int) -> int:
    v = value.strip()
    if not is_digits(v):
        raise refuse(f"{what} {v!r} is not a number", segment_id=seg, position=pos, element=element, bad_value=v)
    return int(v)


def parse_x12(data: bytes | str) -> list[X12Interchange]:
    """Every interchange in the file, envelopes checked; raises `EdiRefused` if the file cannot be taken."""
    with gc_paused():
        return _parse_all(decode(data).lstrip("\ufeff \t\r\n"))


def _parse_all(text: str) -> list[X12Interchange]:
    if not text:
        raise refuse("empty file: no ISA segment")
    interchanges: list[X12Interchange] = []
    offset, position = 0, 0
    while True:
        head = text[offset:offset + 3]
        if head != "ISA":
            sample = text[offset:offset + 12]
            if _CONTROL.search(text, offset, offset + 200):
                raise refuse(f"binary data, not an X12 interchange (starts {sample!r})", position=position + 1)
            raise refuse(f"not an X12 interchange: expected ISA, found {sample!r}", position=position + 1)
        ic, used, position = _parse_one(text, offset, position)
        interchanges.append(ic)
        offset += used
        while offset < len(text) and text[offset] in " \t\r\n":
            offset += 1
        if offset >= len(text):
            return interchanges


def _parse_one(text: str, offset: int, position: int) -> tuple[X12Interchange, int, int]:
    """One ISA…IEA from `offset`; returns it, the characters used and the last segment position."""
    seps = read_separators(text[offset:offset + ISA_LENGTH + 2])
    elem, term = seps.element, seps.segment
    allowed = {elem, seps.component, seps.repetition} - {""}
    junk = re.compile("[" + "".join(re.escape(c) for c in _CONTROL_CHARS if c not in allowed) + "]")
    pieces = text[offset:].split(term)
    used = 0
    clean = junk.search(text, offset) is None      # the usual case: no per-segment search needed
    isa: list[str] = []
    groups: list[X12Group] = []
    group: X12Group | None = None
    message: X12Message | None = None
    seen_gs: set[str] = set()
    warnings: list[Problem] = []
    closed = False
    for index, piece in enumerate(pieces):
        used += len(piece) + 1
        raw = piece.strip(_NEWLINES)
        if not raw:
            continue
        if index == len(pieces) - 1:
            raise refuse(f"truncated interchange: the last segment {raw[:40]!r} has no terminator",
                         segment_id=raw[:3], position=position + 1, bad_value=raw)
        position += 1
        if len(raw) > MAX_SEGMENT:
            raise refuse(f"segment over {MAX_SEGMENT:,} characters ({len(raw):,})", segment_id=raw[:3],
                         position=position)
        els = raw.split(elem)
        sid = els[0]
        bad_char = None if clean else junk.search(raw)
        if message is not None and sid not in ("SE", "ST", "GE", "GS", "IEA", "ISA"):
            if not _SEGMENT_ID.match(sid):
                message.problems.append(Problem(f"{sid[:10]!r} is not a segment id", segment_id=sid[:3],
                                                segment_position=len(message.raw) + 1, code="1"))
            elif bad_char:
                message.problems.append(_control_problem(els, bad_char.group(), len(message.raw) + 1))
            message.segments.append(els)
            message.raw.append(raw)
            continue
        if bad_char:
            raise refuse(f"binary data in the {sid[:3]!r} segment (character {ord(bad_char.group()):#04x})",
                         segment_id=sid[:3], position=position)
        if sid == "ISA":
            if isa:
                raise refuse("ISA inside an interchange: the previous one has no IEA", segment_id="ISA",
                             position=position)
            if len(els) != 17:
                raise refuse(f"the ISA segment has {len(els) - 1} elements, 16 expected", segment_id="ISA",
                             position=position)
            isa = [e.strip() for e in els]
        elif sid == "GS":
            if group is not None:
                raise refuse(f"GS {group.control_number} has no GE before the next GS", segment_id="GS",
                             position=position)
            els += [""] * (9 - len(els))
            group = X12Group(els[1], els[2].strip(), els[3].strip(), els[6].strip(), els[8].strip(), els[7].strip())
            seen_st: set[str] = set()
            if group.control_number in seen_gs:
                warnings.append(Problem(f"GS06 {group.control_number} repeats in this interchange",
                                        segment_id="GS", segment_position=position, element=6, code="19"))
            seen_gs.add(group.control_number)
        elif sid == "ST":
            if group is None:
                raise refuse("ST outside a functional group (no GS before it)", segment_id="ST", position=position)
            els += [""] * (3 - len(els))
            if message is not None:
                _close_missing(message)
            message = X12Message(els[1].strip(), els[2].strip(), position, [els], [raw])
            key = message.control_number.lstrip("0")
            if key in seen_st:
                message.warnings.append(Problem(f"ST02 {message.control_number} repeats in this group",
                                                segment_id="ST", segment_position=1, element=2, code="23"))
            seen_st.add(key)
            group.messages.append(message)
        elif sid == "SE":
            if message is None:
                raise refuse("SE without an ST", segment_id="SE", position=position)
            message.segments.append(els)
            message.raw.append(raw)
            _close(message, els)
            message = None
        elif sid == "GE":
            if group is None:
                raise refuse("GE without a GS", segment_id="GE", position=position)
            if message is not None:
                _close_missing(message)
                message = None
            els += [""] * (3 - len(els))
            if not _same(els[2], group.control_number):
                raise refuse(f"GE02 {els[2].strip()!r} does not match GS06 {group.control_number!r}",
                             segment_id="GE", position=position, element=2, bad_value=els[2])
            n = _count(els[1], "GE01 count", "GE", position, 1)
            if n != len(group.messages):
                raise refuse(f"GE01 says {n} transaction sets, the group has {len(group.messages)}",
                             segment_id="GE", position=position, element=1, bad_value=els[1])
            groups.append(group)
            group = None
        elif sid == "IEA":
            if group is not None:
                raise refuse(f"truncated interchange: GS {group.control_number} has no GE", segment_id="IEA",
                             position=position)
            els += [""] * (3 - len(els))
            if not _same(els[2], isa[13]):
                raise refuse(f"IEA02 {els[2].strip()!r} does not match ISA13 {isa[13]!r}", segment_id="IEA",
                             position=position, element=2, bad_value=els[2])
            n = _count(els[1], "IEA01 count", "IEA", position, 1)
            if n != len(groups):
                raise refuse(f"IEA01 says {n} functional groups, the interchange has {len(groups)}",
                             segment_id="IEA", position=position, element=1, bad_value=els[1])
            if not any(g.messages for g in groups):
                raise refuse("the interchange holds no transaction set (ST…SE)", segment_id="IEA",
                             position=position)
            closed = True
            break
        elif sid == "TA1" and group is None:
            continue
        else:
            shown = sid[:10] if _SEGMENT_ID.match(sid) else repr(sid[:10])
            raise refuse(f"segment {shown} outside a transaction set (ST…SE)", segment_id=sid[:3],
                         position=position)
    if not closed:
        where = "a message has no SE" if message is not None else (
            "a group has no GE" if group is not None else "no IEA trailer")
        raise refuse(f"truncated interchange: {where}", position=position)
    return X12Interchange(seps, isa, groups, warnings), min(used, len(text) - offset), position


def _control_problem(els: list[str], ch: str, seg_pos: int) -> Problem:
    for i, e in enumerate(els[1:], start=1):
        if ch in e:
            return Problem(f"control character {ord(ch):#04x} in {els[0][:3]}{i:02d}", segment_id=els[0][:3],
                           segment_position=seg_pos, element=i, code="6", bad_value=e[:80])
    return Problem(f"control character {ord(ch):#04x} in the segment id", segment_id=els[0][:3],
                   segment_position=seg_pos, code="1")


def _close(message: X12Message, se: list[str]) -> None:
    se = se + [""] * (3 - len(se))
    if not _same(se[2], message.control_number):
        message.problems.append(Problem(f"SE02 {se[2].strip()!r} does not match ST02 {message.control_number!r}",
                                        segment_id="SE", segment_position=len(message.raw), element=2,
                                        code="3", bad_value=se[2]))
    count = se[1].strip()
    if not is_digits(count) or int(count) != len(message.raw):
        message.problems.append(Problem(f"SE01 says {count or 'nothing'}, the message has {len(message.raw)} "
                                        "segments", segment_id="SE", segment_position=len(message.raw),
                                        element=1, code="4", bad_value=count))


def _close_missing(message: X12Message) -> None:
    message.problems.append(Problem(f"transaction set {message.control_number!r} has no SE trailer (truncated)",
                                    segment_id="SE", segment_position=len(message.raw) + 1, code="2"))

