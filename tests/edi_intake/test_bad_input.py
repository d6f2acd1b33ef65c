"""Bad EDI input through a real `orderq import`: one line on stderr, exit 2, nothing half-written. A file
refused whole writes nothing at all; a file whose every message is rejected writes only the 997 saying
so (and its event); in a file with a bad message beside good ones, the good ones are imported and the
997 names the bad one."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.edi.x12 import parse_x12
from tests.conftest import run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import deliver, counts, rows, set_up_partner

ONE = EDI / "x12" / "850-004010-03.x12"
TWO = EDI / "x12" / "850-004010-05.x12"    # ST 0007 and ST 0001 in one group
ONE_TEXT = ONE.read_text(encoding="latin-1")


@pytest.fixture
def partner(demo_db: Path, desk_for, tmp_path: Path):  # noqa: ANN201
    return set_up_partner(desk_for(demo_db, None), ONE, tmp_path)


def _import(db: Path, tmp: Path, name: str, data: bytes | str, *extra: str):  # noqa: ANN202
    f = tmp / name
    f.write_bytes(data if isinstance(data, bytes) else data.encode("latin-1"))
    return run_cli("--db", str(db), "import", str(f), *extra)


@pytest.mark.parametrize("name, data, says", [
    ("empty.x12", b"", "the file is empty"),
    ("junk.x12", bytes(range(256)) * 8, "binary data"),
    ("notedi.edi", b"hello, this is not EDI at all\n", "not an EDI interchange"),
    ("truncated.x12", ONE_TEXT[: ONE_TEXT.index("GE*")], "truncated interchange"),
    ("mismatch.x12", ONE_TEXT.replace("IEA*1*000000001", "IEA*1*000000002"), "IEA02 '000000002' does not match ISA13"),
    ("long.x12", ONE_TEXT.replace("CSH*O~", "CSH*" + "O" * 10_001 + "~"), "segment over 10,000 characters"),
    ("stranger.x12", ONE_TEXT.replace("ZZ*1111111      ", "ZZ*9999999      "), "unknown sender ZZ:9999999"),
])
def test_a_file_refused_whole_writes_nothing(name: str, data: bytes | str, says: str, partner, demo_db: Path,
                                             tmp_path: Path) -> None:
    before = counts(demo_db)
    proc = _import(demo_db, tmp_path, name, data, "--format", "x12") if name.endswith(".x12") else \
        _import(demo_db, tmp_path, name, data)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert says in proc.stderr and "nothing imported" in proc.stderr and "Traceback" not in proc.stderr
    assert counts(demo_db) == before and list(partner.outbox.iterdir()) == []


@pytest.mark.parametrize("name, data, says, named", [
    # a wrong count is the envelope's: AK5 R with AK502 4 ("number of included segments does not match")
    ("count.x12", ONE_TEXT.replace("SE*14*000000101", "SE*15*000000101"), "SE01 says 15, the message has 14",
     ["AK5*R*4"]),
    # a bad quantity is in the body: AK3 names the PO1 segment (its position), AK4 the element
    ("qty.x12", ONE_TEXT.replace("PO1*2*10*UN", "PO1*2*ten*UN"), "not a number", ["AK3*PO1*9", "AK4*2"]),
])
def test_a_file_whose_only_message_is_bad_says_so_in_a_997_and_makes_no_order(
        name: str, data: str, says: str, named: list[str], partner, demo_db: Path, tmp_path: Path) -> None:
    before = counts(demo_db)
    proc = _import(demo_db, tmp_path, name, data)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    after = counts(demo_db)
    assert (after["orders"], after["order_lines"], after["edi_orders"]) == (
        before["orders"], before["order_lines"], before["edi_orders"])
    deliver(demo_db)
    (ack,) = partner.outbox.iterdir()
    (ic,) = parse_x12(ack.read_bytes())
    segs = ic.messages[0].segments
    assert [s[1] for s in segs if s[0] == "AK5"] == ["R"] and [s for s in segs if s[0] == "AK9"][0][1] == "R"
    text = ["*".join(s) for s in segs]
    for want in named:  # the bad segment / element named
        assert any(t.startswith(want) for t in text), text


def test_good_messages_import_when_one_beside_them_is_bad(demo_db: Path, desk_for, tmp_path: Path) -> None:
    partner = set_up_partner(desk_for(demo_db, None), TWO, tmp_path)
    text = TWO.read_text(encoding="latin-1").replace("SE*27*0007", "SE*28*0007")
    proc = _import(demo_db, tmp_path, "two.x12", text)
    assert proc.returncode == 0, proc.stderr
    assert "rejected" in proc.stdout and "SE01 says 28" in proc.stdout
    made = rows(demo_db, "SELECT po_number FROM edi_orders")
    assert [r["po_number"] for r in made] == ["PONUM-1234567"]
    deliver(demo_db)
    (ack,) = partner.outbox.iterdir()
    segs = parse_x12(ack.read_bytes())[0].messages[0].segments
    assert [(s[1], s[2]) for s in segs if s[0] == "AK2"] == [("850", "0007"), ("850", "0001")]
    assert [s[1] for s in segs if s[0] == "AK5"] == ["R", "A"]
    assert [s for s in segs if s[0] == "AK9"][0][1] == "P"  # partially accepted


def test_a_format_that_does_not_match_the_file_is_refused(partner, demo_db: Path, tmp_path: Path) -> None:
    before = counts(demo_db)
    proc = run_cli("--db", str(demo_db), "import", str(ONE), "--format", "edifact")
    assert proc.returncode == 2 and "--format edifact but the file is x12" in proc.stderr
    assert counts(demo_db) == before
