"""Bad X12 input: each gives one clear reason with where, and a bad message never sinks the good ones."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.edi.problems import EdiRefused
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_997
from tests.edi.conftest import EDI

TWO_ORDERS = (EDI / "x12" / "850-004010-05.x12").read_bytes().decode()      # ST 0007 and ST 0001 in one group
ONE_ORDER = (EDI / "x12" / "850-004010-03.x12").read_bytes().decode()
NOW = datetime(2026, 12, 1, 9, 30)


def refusal(data: str | bytes) -> str:
    with pytest.raises(EdiRefused) as e:
        parse_x12(data)
    assert e.value.problem.reason
    return str(e.value)


@pytest.mark.parametrize("data, says", [
    (b"", "empty file"),
    (b"   \r\n", "empty file"),
    (bytes(range(256)) * 8, "binary data"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "binary data"),
    ("hello, this is not EDI at all", "not an X12 interchange"),
])
def test_empty_binary_and_foreign_files_are_refused(data: str | bytes, says: str) -> None:
    assert says in refusal(data)


def test_a_truncated_interchange_is_refused() -> None:
    cut = ONE_ORDER[: ONE_ORDER.index("GE*")]
    assert "truncated interchange" in refusal(cut)
    assert "has no terminator" in refusal(ONE_ORDER[:-6])
    assert "truncated interchange: the ISA" in refusal(ONE_ORDER[:50])


def test_mismatched_control_numbers_are_refused_naming_the_segment() -> None:
    assert refusal(ONE_ORDER.replace("IEA*1*000000001", "IEA*1*000000002")) == (
        "IEA02 '000000002' does not match ISA13 '000000001' (segment 18 IEA, element IEA02)")
    assert "GE02 '201' does not match GS06 '200'" in refusal(ONE_ORDER.replace("GE*1*200", "GE*1*201"))
    assert "GE01 says 2 transaction sets, the group has 1" in refusal(ONE_ORDER.replace("GE*1*200", "GE*2*200"))
    assert "IEA01 says 3 functional groups" in refusal(ONE_ORDER.replace("IEA*1*", "IEA*3*"))


def test_a_segment_over_ten_thousand_characters_is_refused() -> None:
    long = ONE_ORDER.replace("CSH*O~", "CSH*" + "O" * 10_001 + "~")
    assert "segment over 10,000 characters" in refusal(long)


def test_a_wrong_segment_count_rejects_only_that_message() -> None:
    ic = parse_x12(TWO_ORDERS.replace("SE*27*0007", "SE*28*0007"))[0]
    first, second = read_x12_orders(ic)
    assert first.status == "R" and "SE01 says 28, the message has 27" in first.reason
    assert second.status == "A" and second.order is not None and second.order.po_number == "PONUM-1234567"
    ack = write_997(ic, [first, second], Controls(5, 5), NOW)
    assert "AK2*850*0007~\r\nAK5*R*4~" in ack and "AK2*850*0001~\r\nAK5*A~" in ack
    assert "AK9*P*2*2*1*5~" in ack


def test_mismatched_st_se_control_numbers_reject_that_message() -> None:
    ic = parse_x12(TWO_ORDERS.replace("SE*26*0001", "SE*26*0002"))[0]
    first, second = read_x12_orders(ic)
    assert first.status == "A" and second.status == "R"
    assert "SE02 '0002' does not match ST02 '0001'" in second.reason


def test_a_quantity_that_is_not_a_number_rejects_the_message_and_the_997_names_it() -> None:
    ic = parse_x12(TWO_ORDERS.replace("PO1*2*23*UN", "PO1*2*2X3*UN"))[0]
    first, second = read_x12_orders(ic)
    assert first.status == "A"
    assert second.status == "R" and second.reason == (
        "message 0001: line 2: quantity '2X3' is not a number (segment 11 PO1, element PO102)")
    ack = write_997(ic, [first, second], Controls(5, 5), NOW)
    assert "AK3*PO1*11**8~\r\nAK4*2*330*6*2X3~\r\nAK5*R*5~" in ack


def test_a_missing_se_rejects_that_message_only() -> None:
    broken = TWO_ORDERS.replace("SE*27*0007~\r\n", "")
    first, second = read_x12_orders(parse_x12(broken)[0])
    assert first.status == "R" and "has no SE trailer" in first.reason
    assert second.status == "A"


def test_control_characters_inside_a_message_reject_only_it() -> None:
    ic = parse_x12(TWO_ORDERS.replace("HANDLESET ACTIVE", "HANDLE\x00SET"))[0]
    first, second = read_x12_orders(ic)
    assert first.status == "R" and "control character 0x00 in PID05" in first.reason
    assert second.status == "A"


def test_a_message_that_is_not_an_850_is_rejected_as_not_supported() -> None:
    ic = parse_x12((EDI / "x12" / "997-004010VICS-01.x12").read_bytes())[0]
    (o,) = read_x12_orders(ic)
    assert o.status == "R" and "is not a purchase order" in o.reason
    assert "AK5*R*1" in write_997(ic, [o], Controls(1, 1), NOW)


def test_a_generated_interchange_of_two_thousand_messages_reads_every_order() -> None:
    from bench.edi_interchange import build_x12_interchange

    ic = parse_x12(build_x12_interchange(EDI / "x12", 2_000))[0]
    outcomes = read_x12_orders(ic)
    assert len(outcomes) == 2_000 and all(o.order is not None for o in outcomes)


def test_a_unicode_digit_in_a_control_number_is_a_mismatch_not_a_crash() -> None:
    """Found by the fuzz: '²'.isdigit() is True but int('²') raises, which escaped as a ValueError."""
    ic = parse_x12(ONE_ORDER.replace("ST*850*000000101", "ST*850*²00000101").encode())[0]
    (o,) = read_x12_orders(ic)
    assert o.status == "R" and "SE02 '000000101' does not match ST02 '²00000101'" in o.reason
    assert "AK5*R*3" in write_997(ic, [o], Controls(1, 1), NOW)


def test_an_interchange_with_no_transaction_set_is_refused() -> None:
    isa = ONE_ORDER[:ONE_ORDER.index("GS*")]
    assert "holds no transaction set" in refusal(isa + "IEA*0*000000001~")
    assert "holds no transaction set" in refusal(isa + "GS*PO*1*2*980319*1435*200*X*004010~GE*0*200~IEA*1*000000001~")
