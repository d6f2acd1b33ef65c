"""Every EDIFACT sample (parametrized over the folder): ORDERS become purchase orders; the CONTRL and
ORDRSP we write parse back with pydifact and with our reader; bad input gives one reason."""
from __future__ import annotations

import warnings
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydifact.segmentcollection import Interchange

from core.edi import detect_format
from core.edi.edifact import parse_edifact
from core.edi.edifact_orders import read_edifact_orders
from core.edi.edifact_write import write_contrl, write_ordrsp
from core.edi.problems import EdiRefused
from tests.edi.conftest import EDI, EDIFACT_SAMPLES, ids, mixed_answer

NOW = datetime(2026, 12, 1, 9, 30)
BOTS = (EDI / "edifact" / "bots-orders-xml01.edi").read_bytes().decode()


def tags(text: str) -> list[tuple[str, list]]:
    """The document as pydifact reads it (its own parser, not ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # pydifact's XML lookup: absent for these directories
        return [(s.tag, s.elements) for s in Interchange.from_str(text).segments]


@pytest.mark.parametrize("path", EDIFACT_SAMPLES, ids=ids(EDIFACT_SAMPLES))
def test_every_sample_becomes_orders_with_po_and_lines(path: Path) -> None:
    data = path.read_bytes()
    assert detect_format(data) == "edifact"
    for ic in parse_edifact(data):
        outcomes = read_edifact_orders(ic)
        assert len(outcomes) == len(ic.messages) >= 1
        for o in outcomes:
            assert o.status == "A", o.reason
            po = o.order
            assert po is not None and po.po_number and po.po_date
            assert po.buyer is not None and po.buyer.id_code
            assert po.lines and all(ln.quantity > 0 and ln.item_codes for ln in po.lines)
            assert po.raw_segments[0].startswith("UNH") and po.raw_segments[-1].startswith("UNT")


@pytest.mark.parametrize("path", EDIFACT_SAMPLES, ids=ids(EDIFACT_SAMPLES))
def test_the_contrl_acknowledges_every_message_and_parses_back(path: Path) -> None:
    ic = parse_edifact(path.read_bytes())[0]
    text = write_contrl(ic, read_edifact_orders(ic), 77, NOW)
    segs = tags(text)
    uci = next(e for t, e in segs if t == "UCI")
    assert uci[0] == ic.control_number and uci[3] == "7"
    assert [(e[0], e[2]) for t, e in segs if t == "UCM"] == [(m.control_number, "7") for m in ic.messages]
    (back,) = parse_edifact(text)
    assert back.envelope().sender_id == ic.envelope().receiver_id and back.control_number == "77"
    assert back.messages[0].type == "CONTRL" and not back.messages[0].problems


@pytest.mark.parametrize("path", EDIFACT_SAMPLES, ids=ids(EDIFACT_SAMPLES))
def test_the_ordrsp_says_each_lines_status_and_parses_back(path: Path) -> None:
    ic = parse_edifact(path.read_bytes())[0]
    po = read_edifact_orders(ic)[0].order
    assert po is not None
    answer = mixed_answer(po)
    answers = answer.lines
    text = write_ordrsp(answer, 78, NOW)
    segs = tags(text)
    assert ["ON", po.po_number] in [e[0] for t, e in segs if t == "RFF"]
    assert [e[1] for t, e in segs if t == "LIN"] == [["5", "6", "3", "7"][i % 4] for i in range(len(answers))]
    (back,) = parse_edifact(text)
    (msg,) = back.messages
    assert msg.type == "ORDRSP" and not msg.problems
    assert text.startswith("UNA") == ic.has_una


def test_orders_map_dates_parties_quantities_and_prices() -> None:
    one = read_edifact_orders(parse_edifact((EDI / "edifact" / "pydifact-order.edi").read_bytes())[0])[0].order
    assert one is not None
    assert (one.po_number, one.po_date, one.requested_date) == ("801715918011", date(2015, 8, 3), date(2015, 8, 6))
    assert (one.ship_to.role, one.ship_to.id_code, one.ship_to.id_qualifier) == ("DP", "8711576100019", "9")
    assert one.lines[0].code("EN") == "5020436373085" and one.lines[0].quantity == Decimal(8)
    two = read_edifact_orders(parse_edifact((EDI / "edifact" / "pydifact-order2.edi").read_bytes())[0])[0].order
    assert two is not None and two.lines[0].unit_price == Decimal("25.00")


def test_a_file_without_unz_is_read_with_a_warning() -> None:
    (ic,) = parse_edifact((EDI / "edifact" / "pydifact-order.edi").read_bytes())
    assert [w.reason for w in ic.warnings] == ["interchange has no UNZ trailer"]


def refusal(data: str | bytes) -> str:
    with pytest.raises(EdiRefused) as e:
        parse_edifact(data)
    assert e.value.problem.reason
    return str(e.value)


def test_bad_envelopes_and_files_are_refused_with_one_reason() -> None:
    assert "empty file" in refusal(b"")
    assert "binary data" in refusal(bytes(range(256)))
    assert "not an EDIFACT interchange" in refusal("ISA*00*")
    assert "UNZ reference 'X' does not match UNB '1UNBREF'" in refusal(BOTS.replace("UNZ+2+1UNBREF", "UNZ+2+X"))
    assert "UNZ says 3 messages, the interchange has 2" in refusal(BOTS.replace("UNZ+2+", "UNZ+3+"))
    assert "has no terminator" in refusal(BOTS[:-5])
    assert "segment over 10,000 characters" in refusal(BOTS.replace("NAD+SU+", "NAD+SU+" + "A" * 10_001))
    assert "has no UNT" in refusal(BOTS[: BOTS.index("UNT+16")])
    assert "holds no message" in refusal("UNB+UNOA:3+A+B+261201:1200+R1'UNZ+0+R1'")


def test_a_bad_message_is_rejected_alone_and_the_contrl_names_it() -> None:
    ic = parse_edifact(BOTS.replace("UNT+22+1-1UNHREF", "UNT+21+1-1UNHREF").replace("QTY+21:1'\r\nUNS",
                                                                                     "QTY+21:x1'\r\nUNS"))[0]
    first, second = read_edifact_orders(ic)
    assert first.status == "R" and "UNT says 21 segments, the message has 22" in first.reason
    assert second.status == "R" and "quantity 'x1' is not a number" in second.reason
    text = write_contrl(ic, [first, second], 79, NOW)
    assert "UCM+1-1UNHREF+ORDERS:D:96A:UN:EAN008+4+29+UNT'" in text
    assert "UCM+1-2UNHREF+ORDERS:D:96A:UN:EAN008+4+12'\nUCS+14'\nUCD+12+1:2'" in text
    good = parse_edifact(BOTS.replace("QTY+21:1'\r\nUNS", "QTY+21:x1'\r\nUNS"))[0]
    assert [o.status for o in read_edifact_orders(good)] == ["A", "R"]


SAMPLES = [p.read_bytes() for p in EDIFACT_SAMPLES]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 10_000), st.binary(max_size=6), st.booleans())
def test_mutated_samples_are_read_or_refused_with_a_reason(data: bytes, at: int, junk: bytes, cut: bool) -> None:
    at %= len(data) + 1
    mutated = data[:at] if cut else data[:at] + junk + data[at + len(junk):]
    try:
        interchanges = parse_edifact(mutated)
    except EdiRefused as e:
        assert e.problem.reason
        return
    for ic in interchanges:
        outcomes = read_edifact_orders(ic)
        assert all(o.reason for o in outcomes if o.status == "R")
        parse_edifact(write_contrl(ic, outcomes, 1, NOW))
