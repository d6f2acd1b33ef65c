"""Returns in a clerk's words, and what inspection proposes for each reason.

The enum values (`not_as_described`, `return_to_vendor`) are the stored and JSON form; people read
these labels. The inspection default follows the reason the customer gave, so one Enter never
puts goods described as damaged or defective back into stock; where the reason says nothing
about the goods' condition there is no default and the clerk chooses.
"""
from __future__ import annotations

from core.enums import Disposition, Grade, ReturnReason

REASON_LABEL: dict[ReturnReason, str] = {
    ReturnReason.DAMAGED: "damaged",
    ReturnReason.DEFECTIVE: "defective",
    ReturnReason.WRONG_ITEM: "wrong item",
    ReturnReason.NOT_AS_DESCRIBED: "not as described",
    ReturnReason.NO_LONGER_NEEDED: "no longer needed",
    ReturnReason.ARRIVED_LATE: "arrived late",
    ReturnReason.OTHER: "other",
}
GRADE_LABEL: dict[Grade, str] = {g: g.value.replace("_", " ") for g in Grade}
DISPOSITION_LABEL: dict[Disposition, str] = {
    Disposition.RESTOCK: "back into stock",
    Disposition.REFURBISH: "to refurbishment",
    Disposition.SCRAP: "write off",
    Disposition.RETURN_TO_VENDOR: "back to the supplier",
}

#: (grade, disposition) proposed at inspection; a reason not listed proposes nothing
INSPECT_DEFAULT: dict[ReturnReason, tuple[Grade, Disposition]] = {
    ReturnReason.DAMAGED: (Grade.DAMAGED, Disposition.SCRAP),
    ReturnReason.DEFECTIVE: (Grade.DEFECTIVE, Disposition.RETURN_TO_VENDOR),
    ReturnReason.NO_LONGER_NEEDED: (Grade.LIKE_NEW, Disposition.RESTOCK),
    ReturnReason.ARRIVED_LATE: (Grade.LIKE_NEW, Disposition.RESTOCK),
}


def reason_label(value: str) -> str:
    """A stored reason as words; an unknown value is shown as it is."""
    try:
        return REASON_LABEL[ReturnReason(value)]
    except ValueError:
        return value


def inspect_default(reason: str) -> tuple[str, str]:
    """The grade and disposition to pre-fill for a line returned for `reason`: ("", "") when the
    clerk must choose."""
    try:
        got = INSPECT_DEFAULT.get(ReturnReason(reason))
    except ValueError:
        got = None
    return (got[0].value, got[1].value) if got else ("", "")
