"""Every X12 sample file, parametrized over the folder (a new sample is covered by dropping it in):
850s become purchase orders with PO, ship-to and lines; every 997 and 855 we write for them parses
back with our own reader and says what we decided."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from core.edi import detect_format
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_855, write_997
from tests.edi.conftest import X12_SAMPLES, ids, mixed_answer

NOW = datetime(2026, 12, 1, 9, 30)
PURCHASE_ORDERS = [p for p in X12_SAMPLES if p.name.startswith("850")]


@pytest.mark.parametrize("path", X12_SAMPLES, ids=ids(X12_SAMPLES))
def test_every_sample_parses_with_its_envelope_checked(path: Path) -> None:
    data = path.read_bytes()
    assert detect_format(data) == "x12"
    interchanges = parse_x12(data)
    messages = [m for ic in interchanges for m in ic.messages]
    assert messages, "no transaction set"
    assert all(not m.problems for m in messages), [str(p) for m in messages for p in m.problems]
    kind = path.name[:3]
    assert {m.type for m in messages} == {kind}


@pytest.mark.parametrize("path", PURCHASE_ORDERS, ids=ids(PURCHASE_ORDERS))
def test_every_850_becomes_orders_with_po_ship_to_and_lines(path: Path) -> None:
    for ic in parse_x12(path.read_bytes()):
        outcomes = read_x12_orders(ic)
        assert len(outcomes) == len(ic.messages)        # one order per ST…SE
        for o in outcomes:
            assert o.status in ("A", "E"), o.reason
            po = o.order
            assert po is not None and po.po_number
            assert po.ship_to is not None, "no ship-to party"
            assert po.lines and all(ln.quantity > 0 and ln.item_codes for ln in po.lines)
            assert po.raw_segments[0].startswith("ST") and po.raw_segments[-1].startswith("SE")
            assert po.interchange_reference == ic.control_number


def test_the_samples_separators_come_from_the_isa() -> None:
    by_name = {p.name: parse_x12(p.read_bytes())[0].separators for p in X12_SAMPLES}
    assert (by_name["850-004010-01.x12"].element, by_name["850-004010-01.x12"].segment) == ("*", "\n")
    assert (by_name["850-004010VICS-01.x12"].element, by_name["850-004010VICS-01.x12"].segment) == ("\x7f", "\x15")
    assert by_name["850-004030-01.x12"].segment == "\x15" and by_name["850-004030-01.x12"].suffix == "\r\n"


def test_an_850_maps_po_dates_parties_and_item_codes() -> None:
    po = read_x12_orders(parse_x12((X12_SAMPLES[0].parent / "850-004010-04.x12").read_bytes())[0])[0].order
    assert po is not None
    assert (po.po_number, po.po_date, po.requested_date, po.requested_date_qualifier) == (
        "548177", date(2003, 6, 27), date(2003, 7, 5), "002")
    assert (po.ship_to.role, po.ship_to.id_qualifier, po.ship_to.id_code) == ("ST", "9", "0091372092527")
    assert po.bill_to is not None and po.bill_to.extra_names == ("NATIONAL SERVICES CENTER",)
    first = po.lines[0]
    assert (first.quantity, first.unit, first.unit_price) == (Decimal(10), "CA", Decimal("12.5"))
    assert first.code("UA") == "042040304101" and first.code("VN", "IN") == "22222"


def test_the_vics_unit_cost_comes_from_ctp_when_po104_is_empty() -> None:
    po = read_x12_orders(parse_x12((X12_SAMPLES[0].parent / "850-004010VICS-01.x12").read_bytes())[0])[0].order
    assert po is not None and po.lines[0].unit_price == Decimal("34.98")


def _ack_lines(text: str) -> list[list[str]]:
    ic = parse_x12(text)[0]
    return [s for m in ic.messages for s in m.segments]


@pytest.mark.parametrize("path", PURCHASE_ORDERS, ids=ids(PURCHASE_ORDERS))
def test_the_997_accepts_it_and_parses_back(path: Path) -> None:
    ic = parse_x12(path.read_bytes())[0]
    outcomes = read_x12_orders(ic)
    text = write_997(ic, outcomes, Controls(interchange=41, group=7), NOW)
    back = parse_x12(text)[0]
    assert back.separators.element == ic.separators.element and back.separators.segment == ic.separators.segment
    assert (back.isa[6], back.isa[8], back.control_number) == (ic.isa[8], ic.isa[6], "000000041")
    assert [m.type for m in back.messages] == ["997"] * len(ic.groups)
    segs = [s for m in back.messages for s in m.segments]
    assert [s[2] for s in segs if s[0] == "AK2"] == [m.control_number for m in ic.messages]
    assert {s[1] for s in segs if s[0] == "AK9"} <= {"A", "E"}


@pytest.mark.parametrize("path", PURCHASE_ORDERS, ids=ids(PURCHASE_ORDERS))
def test_the_855_says_each_lines_status_and_parses_back(path: Path) -> None:
    ic = parse_x12(path.read_bytes())[0]
    po = read_x12_orders(ic)[0].order
    assert po is not None
    answer = mixed_answer(po)
    answers = answer.lines
    text = write_855(answer, Controls(42, 8), NOW)
    segs = _ack_lines(text)
    bak = next(s for s in segs if s[0] == "BAK")
    assert bak[3] == po.po_number and bak[2] == ("AD" if len(answers) == 1 else "AC")
    acks = [s for s in segs if s[0] == "ACK"]
    assert [a[1] for a in acks] == [["IA", "IB", "IQ", "IR"][i % 4] for i in range(len(answers))]
    backordered = [a for a in acks if a[1] == "IB"]
    assert all(a[4:6] == ["068", "20261220"] for a in backordered)
    assert len([s for s in segs if s[0] == "PO1"]) == len(po.lines)


def test_partner_values_holding_our_separators_are_cleaned_so_the_855_still_parses() -> None:
    from dataclasses import replace

    ic = parse_x12((X12_SAMPLES[0].parent / "850-004010-ascii1.x12").read_bytes())[0]
    po = read_x12_orders(ic)[0].order
    assert po is not None
    odd = replace(po, po_number="PO*1~2\n3\x00", lines=tuple(
        replace(ln, item_codes=(ln.item_codes[0]._replace(code="12*34~56>78"),)) for ln in po.lines))
    text = write_855(mixed_answer(odd), Controls(3, 3), NOW)
    (msg,) = parse_x12(text)[0].messages
    assert not msg.problems
    segs = msg.segments
    assert next(s for s in segs if s[0] == "BAK")[3] == "PO 1 2 3 "
    assert [s[7] for s in segs if s[0] == "PO1"] == ["12 34 56 78"] * len(po.lines)


def test_one_file_with_two_interchanges_each_with_its_own_separators() -> None:
    x12 = X12_SAMPLES[0].parent
    both = (x12 / "850-004010-01.x12").read_bytes() + (x12 / "850-004010VICS-01.x12").read_bytes()
    first, second = parse_x12(both)
    assert (first.separators.segment, second.separators.segment) == ("\n", "\x15")
    assert [len(ic.messages) for ic in (first, second)] == [1, 4]
    assert [o.status for o in read_x12_orders(second)] == ["A"] * 4
