"""The raw segments an EDI order keeps for the `w` view come back one string a segment: a line break
inside an element never splits one segment into two, and rows stored before (joined by LF) still read."""
from __future__ import annotations

from core.edi.purchase_order import raw_from_text, raw_to_text


def test_a_line_break_inside_a_segment_stays_inside_it() -> None:
    segs = ["ST*850*0278", "N1*BS*Acme\rPO1**99\nPO1**98\x85PO1**97*11*X", "SE*3*0278"]
    assert raw_from_text(raw_to_text(segs)) == segs


def test_rows_stored_joined_by_lf_read_as_before() -> None:
    assert raw_from_text("ST*850*0278\nBEG*00*NE*1\nSE*3*0278") == ["ST*850*0278", "BEG*00*NE*1", "SE*3*0278"]


def test_a_refusal_naming_a_segment_id_with_a_line_break_stays_on_one_line() -> None:
    """Hypothesis (tests/edi_intake/test_intake_fuzz.py) found a mutated 850 whose segment terminator was
    followed by ' \\nGE': the refusal read "… (segment 20 \\nG); nothing imported" across two lines, as
    the CLI would print it. The segment id is the file's text: it is shown escaped."""
    from core.edi.problems import Problem

    for sid in (" \nG", "\x00\nG", "\x1b[2"):
        text = str(Problem("segment outside a transaction set (ST…SE)", segment_id=sid, segment_position=20, element=1))
        assert "\n" not in text and "\x1b" not in text and "\x00" not in text
        assert "segment 20" in text
