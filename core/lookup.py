"""Type-ahead resolution of a code (customer, SKU) from what a rep typed, with as few keys as possible.

Pure: the caller hands in the valid (code, label) pairs.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_TAIL = re.compile(r"(\d+)$")


def resolve(text: str, choices: Sequence[tuple[str, str]]) -> str | None:
    """The one code `text` stands for, or None when it is empty, unknown or ambiguous.

    In order: the exact code (any case); the only code starting with it; the only code whose
    trailing number equals it ("12" → C00012); the only item whose code or label contains it.
    """
    t = (text or "").strip().casefold()
    if not t:
        return None
    for code, _ in choices:
        if code.casefold() == t:
            return code
    prefix = [code for code, _ in choices if code.casefold().startswith(t)]
    if len(prefix) == 1:
        return prefix[0]
    if prefix:
        return None
    if t.isdigit():
        n = int(t)
        tail = [code for code, _ in choices if (m := _TAIL.search(code)) and int(m.group(1)) == n]
        if len(tail) == 1:
            return tail[0]
        if tail:
            return None
    words = t.split()
    hits = [code for code, label in choices if all(w in f"{code}\t{label}".casefold() for w in words)]
    return hits[0] if len(hits) == 1 else None


def complete(text: str, codes: Sequence[str]) -> str | None:
    """The first code starting with `text` (for the grey type-ahead suggestion), else None."""
    t = (text or "").casefold()
    if not t:
        return None
    for code in codes:
        if code.casefold().startswith(t):
            return code
    return None
