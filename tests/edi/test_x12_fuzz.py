"""Hypothesis on mutations of the real X12 samples (truncate, flip bytes, drop or duplicate a segment,
change a count or control number): the reader either reads or refuses with `EdiRefused`; never any
other exception, every refusal and every rejected message has a reason, and the 997 we write for
whatever was read parses back."""
from __future__ import annotations

import re
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.edi.problems import EdiRefused
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_997
from tests.edi.conftest import X12_SAMPLES

SAMPLES = [p.read_bytes() for p in X12_SAMPLES]
NOW = datetime(2026, 12, 1, 9, 30)


def _segments(data: bytes) -> tuple[bytes, list[bytes]]:
    term = data[105:106] or b"~"
    return term, data.split(term)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SAMPLES))
    kind = draw(st.sampled_from(["truncate", "flip", "drop", "duplicate", "count", "insert"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    if kind == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    term, segs = _segments(data)
    i = draw(st.integers(0, len(segs) - 1))
    if kind == "drop":
        del segs[i]
    elif kind == "duplicate":
        segs.insert(i, segs[i])
    else:
        numbers = [m for m in re.finditer(rb"\d+", segs[i])]
        if numbers:
            m = draw(st.sampled_from(numbers))
            new = str(draw(st.integers(0, 10**9))).encode()
            segs[i] = segs[i][: m.start()] + new + segs[i][m.end():]
    return term.join(segs)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_samples_are_read_or_refused_with_a_reason(data: bytes) -> None:
    try:
        interchanges = parse_x12(data)
    except EdiRefused as e:
        assert e.problem.reason and str(e)
        return
    for ic in interchanges:
        outcomes = read_x12_orders(ic)
        assert len(outcomes) == len(ic.messages)
        for o in outcomes:
            if o.status == "R":
                assert o.problems and o.reason
            else:
                assert o.order is not None and o.order.lines
        if ic.groups:
            ack = write_997(ic, outcomes, Controls(1, 1), NOW)
            back = parse_x12(ack)[0]
            assert len(back.messages) == len(ic.groups)
