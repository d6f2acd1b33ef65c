"""UN/EDIFACT interchanges through pydifact, with the envelope checked.

pydifact (MIT, maintained) does the syntax: UNA service characters, the release character,
components. It keeps no envelope checks across several interchanges in one file, so they are
here: UNT01 segment count and UNT02 = UNH01 (per message, so a bad message sinks only itself),
UNZ01 message count and UNZ02 = UNB 0020 (the file). A missing UNZ is only a warning: the
pydifact project's own ORDERS samples end without one, while every message in them is whole.
"""
from __future__ import annotations

import re
import warnings as _warnings
from dataclasses import dataclass, field

from pydifact.control import Characters
from pydifact.parser import Parser
from pydifact.segments import Segment, SegmentFactory
from pydifact.serializer import Serializer

from core.edi.problems import Problem, refuse
from core.edi.purchase_order import Envelope, gc_paused, is_digits
from core.edi.x12 import MAX_SEGMENT, decode

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _UncheckedFactory(SegmentFactory):
    """pydifact's factory without its per-segment XML lookup (missing for most directories: a
    warning per segment, and slow). Our checks are the envelope's and the mapping's."""

    @staticmethod
    def create_segment(name: str, *elements, validate: bool = True, version: str = "4",  # type: ignore[override]
                       directory: str = "") -> Segment:
        return SegmentFactory.create_segment(name, *elements, validate=False, version=version, directory=directory)


@dataclass(slots=True)
class EdifactMessage:
    """One UNH…UNT. `segments` are pydifact segments (UNH first); `raw` the same re-serialized."""

    control_number: str             # UNH 0062
    identifier: list[str]           # UNH S009: ORDERS, D, 96A, UN, EAN008
    position: int
    segments: list[Segment]
    raw: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def type(self) -> str:
        return self.identifier[0] if self.identifier else ""


@dataclass(slots=True)
class EdifactInterchange:
    characters: Characters
    has_una: bool
    unb: Segment
    messages: list[EdifactMessage]
    suffix: str = ""
    warnings: list[Problem] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return element(self.unb, 4)

    def envelope(self) -> Envelope:
        test = element(self.unb, 10) == "1"
        return Envelope(
            standard="edifact", sender_qualifier=element(self.unb, 1, 1), sender_id=element(self.unb, 1),
            receiver_qualifier=element(self.unb, 2, 1), receiver_id=element(self.unb, 2),
            control_reference=self.control_number,
            syntax_version=":".join(components(self.unb, 0)[:2]), separators=str(self.characters),
            suffix=self.suffix, group_version=":".join(self.messages[0].identifier[1:]) if self.messages else "",
            usage="T" if test else "P", has_una=self.has_una)


def components(seg: Segment, i: int) -> list[str]:
    """Element i (0-based after the tag) as its list of components ([] when absent)."""
    if i >= len(seg.elements):
        return []
    v = seg.elements[i]
    return [str(c) for c in v] if isinstance(v, list) else [str(v)]


def element(seg: Segment, i: int, c: int = 0) -> str:
    """Component c of element i, stripped; "" when absent."""
    comps = components(seg, i)
    return comps[c].strip() if c < len(comps) else ""


def _characters(text: str) -> Characters:
    if text.startswith("UNA") and len(text) >= 9:
        return Characters.from_str(text[:9])
    return Characters(decimal_point=".")


def parse_edifact(data: bytes | str) -> list[EdifactInterchange]:
    """Every interchange in the file, envelopes checked; raises `EdiRefused` if the file cannot be taken."""
    text = decode(data).lstrip("\ufeff \t\r\n")
    if not text:
        raise refuse("empty file: no UNB segment")
    junk = _CONTROL.search(text)
    if junk:
        raise refuse(f"binary data at character {junk.start() + 1} ({ord(junk.group()):#04x}), not EDIFACT text")
    if not text.startswith(("UNA", "UNB")):
        raise refuse(f"not an EDIFACT interchange: expected UNA or UNB, found {text[:12]!r}")
    chars = _characters(text)
    if len({chars.component_separator, chars.data_separator, chars.segment_terminator,
            chars.escape_character}) < 4:
        raise refuse(f"UNA service characters {str(chars)!r} are not distinct", segment_id="UNA", position=1)
    longest = max(len(p) for p in text.split(chars.segment_terminator))
    if longest > MAX_SEGMENT:
        raise refuse(f"segment over {MAX_SEGMENT:,} characters ({longest:,})")
    if not text.rstrip(" \r\n").endswith(chars.segment_terminator):
        raise refuse(f"truncated interchange: the last segment has no terminator {chars.segment_terminator!r}",
                     bad_value=text.rstrip()[-40:])
    first_end = text.find(chars.segment_terminator, 9 if text.startswith("UNA") else 0)
    after = text[first_end + 1:first_end + 3] if first_end >= 0 else ""
    suffix = "\r\n" if after == "\r\n" else ("\n" if after[:1] == "\n" else "")
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            with gc_paused():
                segments = list(Parser(factory=_UncheckedFactory(), characters=chars).parse(text))
    except Exception as e:  # pydifact raises EDISyntaxError, ValidationError, IndexError…: all mean bad syntax
        raise refuse(f"EDIFACT syntax: {str(e).removeprefix('EDIFACT Syntax Error: ')}") from None
    with gc_paused():
        return _envelopes(segments, chars, suffix)


def _envelopes(segments: list[Segment], chars: Characters, suffix: str) -> list[EdifactInterchange]:
    serializer = Serializer(chars)
    out: list[EdifactInterchange] = []
    ic: EdifactInterchange | None = None
    msg: EdifactMessage | None = None
    has_una = False
    for pos, seg in enumerate(segments, start=1):
        tag = seg.tag
        if tag == "UNA":
            has_una = True
            continue
        if msg is not None and tag not in ("UNH", "UNT", "UNZ", "UNB"):
            msg.segments.append(seg)
            msg.raw.append(serializer.serialize([seg], with_una_header=False))
            continue
        if tag == "UNB":
            if ic is not None:
                raise refuse("UNB inside an interchange: the previous one has no UNZ", segment_id="UNB", position=pos)
            if len(seg.elements) < 5 or not element(seg, 4):
                raise refuse("UNB has no interchange control reference (0020)", segment_id="UNB", position=pos,
                             element=5)
            ic = EdifactInterchange(chars, has_una, seg, [], suffix)
        elif ic is None:
            raise refuse(f"{tag} before any UNB", segment_id=tag, position=pos)
        elif tag == "UNH":
            if msg is not None:
                _missing_unt(msg)
            ident = components(seg, 1)
            msg = EdifactMessage(element(seg, 0), ident, pos, [seg],
                                 [serializer.serialize([seg], with_una_header=False)])
            if not msg.control_number or not ident:
                msg.problems.append(Problem("UNH has no message reference or type", segment_id="UNH",
                                            segment_position=1, code="13"))
            ic.messages.append(msg)
        elif tag == "UNT":
            if msg is None:
                raise refuse("UNT without a UNH", segment_id="UNT", position=pos)
            msg.segments.append(seg)
            msg.raw.append(serializer.serialize([seg], with_una_header=False))
            _close(msg, seg)
            msg = None
        elif tag == "UNZ":
            if msg is not None:
                _missing_unt(msg)
                msg = None
            if element(seg, 1) != ic.control_number:
                raise refuse(f"UNZ reference {element(seg, 1)!r} does not match UNB {ic.control_number!r}",
                             segment_id="UNZ", position=pos, element=2, bad_value=element(seg, 1))
            count = element(seg, 0)
            if not is_digits(count) or int(count) != len(ic.messages):
                raise refuse(f"UNZ says {count or 'nothing'} messages, the interchange has {len(ic.messages)}",
                             segment_id="UNZ", position=pos, element=1, bad_value=count)
            out.append(ic)
            ic, has_una = None, False
        elif tag in ("UNG", "UNE"):
            continue
        else:
            raise refuse(f"segment {tag} outside a message (UNH…UNT)", segment_id=tag, position=pos)
    if ic is not None:
        if msg is not None:
            raise refuse(f"truncated interchange: message {msg.control_number!r} has no UNT",
                         segment_id="UNT", position=len(segments))
        ic.warnings.append(Problem("interchange has no UNZ trailer", segment_id="UNZ",
                                   segment_position=len(segments) + 1, code="13"))
        out.append(ic)
    if not out:
        raise refuse("no UNB interchange header in the file")
    if not any(ic.messages for ic in out):
        raise refuse("the interchange holds no message (UNH…UNT)")
    return out


def _close(msg: EdifactMessage, unt: Segment) -> None:
    if element(unt, 1) != msg.control_number:
        msg.problems.append(Problem(f"UNT reference {element(unt, 1)!r} does not match UNH {msg.control_number!r}",
                                    segment_id="UNT", segment_position=len(msg.segments), element=2, code="28",
                                    bad_value=element(unt, 1)))
    count = element(unt, 0)
    if not is_digits(count) or int(count) != len(msg.segments):
        msg.problems.append(Problem(f"UNT says {count or 'nothing'} segments, the message has {len(msg.segments)}",
                                    segment_id="UNT", segment_position=len(msg.segments), element=1, code="29",
                                    bad_value=count))


def _missing_unt(msg: EdifactMessage) -> None:
    msg.problems.append(Problem(f"message {msg.control_number!r} has no UNT trailer (truncated)", segment_id="UNT",
                                segment_position=len(msg.segments) + 1, code="13"))
