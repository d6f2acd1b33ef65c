"""What went wrong in an EDI file, said once, with where it happened.

A `Problem` is data (the 997 and CONTRL writers turn it into AK3/AK4 or UCS/UCD), and
`EdiRefused` is the one exception the readers raise: a file that cannot be taken at all
(empty, binary, truncated, a broken envelope). Anything smaller than the envelope is a
`Problem` on one message, so a bad message never sinks the good ones beside it.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import OrderqError
from core.plain_text import printable


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason, with where: the segment (id and position) and, when known, the element.

    `segment_position` counts from 1: inside a message it is the position in the message
    (ST or UNH is 1, as AK3-02 wants); for a refused file it is the position in the file.
    `code` is in the standard's own list. X12: AK304 (segment) when `element` is 0, AK403
    (element) otherwise, AK502 for ST/SE problems. EDIFACT: the CONTRL syntax error code (0085).
    """

    reason: str
    segment_id: str = ""
    segment_position: int = 0
    element: int = 0
    component: int = 0
    element_ref: str = ""
    code: str = ""
    bad_value: str = ""

    def where(self) -> str:
        if not self.segment_id and not self.segment_position:
            return ""
        # the id is the file's first characters of the segment, whatever they are: a control byte or a
        # line break in it must not reach the one-line refusal (Hypothesis found "(segment 20 \nG)")
        sid = printable(self.segment_id, multiline=False)
        text = f"segment {self.segment_position} {sid}".replace("  ", " ").strip()
        if self.element:
            text += f", element {sid}{self.element:02d}"
            if self.component:
                text += f"-{self.component}"
        return text

    def __str__(self) -> str:
        where = self.where()
        return f"{self.reason} ({where})" if where else self.reason


class EdiRefused(OrderqError):
    """The whole file is refused: nothing in it may be written. `problem` says why and where."""

    code = "edi_refused"

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def refuse(reason: str, *, segment_id: str = "", position: int = 0, element: int = 0,
           bad_value: str = "") -> EdiRefused:
    """Build the refusal (callers `raise refuse(...)`, so the raise stays visible at the call site)."""
    return EdiRefused(Problem(reason, segment_id=segment_id, segment_position=position, element=element,
                              bad_value=bad_value[:80]))
