"""User text made safe to show on a terminal: control characters become visible escapes.

Notes, reasons, names, descriptions and imported fields are whatever someone typed or a file held.
Written raw, an ESC sequence in one clears the screen, recolours it or sets the window title; a C1
byte (0x9B is CSI on an 8-bit terminal) does the same; a carriage return or backspace overwrites
what came before; a bidi override (U+202E) reverses the rest of the line, table and all. So every
face writes user text through `printable`, which keeps the text readable and lossless to the eye:
each such character is shown as its Python escape (`\\x1b`, `\\u202e`), never acted on.

Pure: the CLI's output stream and the TUI's text helpers both build on it.
"""
from __future__ import annotations

import re

#: bidi embeddings, overrides and isolates, the Arabic letter mark, and the line/paragraph separators
_UNICODE_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
#: a byte that was not UTF-8 (a file name, an argument), as Python decodes it (surrogateescape): written
#: out it is that raw byte again, and 0x9B is CSI on an 8-bit terminal; on a strict stream, a crash
_RAW_BYTES = "\udc80-\udcff"
_CONTROLS_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_UNICODE_CONTROLS}{_RAW_BYTES}]")
_CONTROLS_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_UNICODE_CONTROLS}{_RAW_BYTES}]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c == 0x0A:
        return "\\n"
    if c == 0x09:
        return "\\t"
    if 0xDC80 <= c <= 0xDCFF:  # the raw byte, shown as the byte it was
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` with every terminal control character shown as an escape (`\\x1b`, `\\u202e`).

    `multiline` keeps newlines and tabs (a note printed on its own lines); without it they are
    escaped too, for a table cell or a one-line field that must stay on its row."""
    pattern = _CONTROLS_MULTILINE if multiline else _CONTROLS_ONE_LINE
    return pattern.sub(_escape, text)



def json_controls_escaped(json_text: str) -> str:
    """Serialised JSON with the controls `json.dumps(ensure_ascii=False)` leaves raw (DEL, C1, bidi,
    U+2028) written as `\\uXXXX`: the same JSON value, and nothing a terminal acts on."""
    return _CONTROLS_ONE_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
