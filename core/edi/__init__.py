"""EDI in and out, pure: bytes in, data out (no files, no SQL, the clock passed in).

    x12.parse_x12(data)               -> [X12Interchange]   (raises EdiRefused)
    x12_850.read_x12_orders(ic)       -> [OrderOutcome]     (order or problems, per ST…SE)
    x12_write.write_997 / write_855   -> str
    edifact.parse_edifact(data)       -> [EdifactInterchange] (raises EdiRefused)
    edifact_orders.read_edifact_orders(ic) -> [OrderOutcome]
    edifact_write.write_contrl / write_ordrsp -> str
    detect_format(data)               -> "x12" | "edifact" | None
"""
from __future__ import annotations


def detect_format(data: bytes | str) -> str | None:
    """The EDI standard of a file from its first segment: ISA → x12, UNA/UNB → edifact, else None."""
    head = data[:64] if isinstance(data, str) else data[:64].decode("latin-1")
    head = head.lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if head.startswith("ISA"):
        return "x12"
    if head.startswith(("UNA", "UNB")):
        return "edifact"
    return None
