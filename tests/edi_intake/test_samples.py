"""Done when (issue 16): every real 850 and ORDERS sample imports through a real `orderq import` for a
partner set up with its sender id — one order per message with its PO, ship-to and lines, unknown
items queued with the code shown — a 997 / CONTRL accepting it lies in the outbox, and importing the
same file again is refused as a duplicate with nothing written."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydifact.segmentcollection import Interchange as PydifactInterchange

from core.edi.edifact import parse_edifact
from core.edi.x12 import parse_x12
from core.edi.purchase_order import raw_from_text
from core.edi_mapping import UNKNOWN_SHOWN
from tests.conftest import run_cli
from tests.edi.conftest import EDIFACT_SAMPLES, X12_SAMPLES, ids
from tests.edi_intake.conftest import deliver, counts, read_outcomes, rows, set_up_partner

X12_850 = [p for p in X12_SAMPLES if p.name.startswith("850-")]


def _check_orders(db: Path, sample: Path, partner, out: str) -> None:  # noqa: ANN001
    expected = [o for _ic, outs in read_outcomes(sample) for o in outs if o.order is not None and not o.problems]
    made = rows(db, """SELECT o.*, e.po_number AS edi_po, e.raw, e.purchase_order, e.unresolved FROM orders o
                       JOIN edi_orders e ON e.order_id = o.id ORDER BY o.id""")
    assert len(made) == len(expected) >= 1, out
    for o, row in zip(expected, made):
        po = o.order
        assert row["channel"] == "edi" and row["po_number"] == row["edi_po"] == po.po_number
        assert raw_from_text(row["raw"]) == list(po.raw_segments)  # stored whole, one string a segment
        assert json.loads(row["purchase_order"])["envelope"]["control_reference"] == po.envelope.control_reference
        lines = rows(db, "SELECT sku, qty FROM order_lines WHERE order_id = ? ORDER BY line_no", row["id"])
        mapped = [ln for ln in po.lines if any(tuple(c) == partner.mapped_code for c in ln.item_codes)]
        assert [ln["sku"] for ln in lines] == [partner.mapped_sku] * len(mapped)
        assert [ln["qty"] for ln in lines] == [int(m.quantity) for m in mapped]
        unknown = [ln for ln in po.lines if ln not in mapped]
        for ln in unknown[:UNKNOWN_SHOWN]:  # the rest are unknown to us: the rep sees the code
            code = ln.item_codes[0]
            assert f"partner item {code.code} ({code.qualifier}) unknown" in row["queue_reason"]
        if len(unknown) > UNKNOWN_SHOWN:
            assert f"and {len(unknown) - UNKNOWN_SHOWN} more partner item(s) unknown" in row["queue_reason"]
        assert len(json.loads(row["unresolved"])) == len(unknown)  # every one kept for F4
        if row["state"] == "released":  # clean (bots-orders01: a GTIN we know, no price, no date): straight through
            assert row["straight_through"] == 1 and row["queue_reason"] is None
            (ack,) = rows(db, "SELECT data FROM events WHERE entity_id = ? AND action = 'edi_ack_queued'", row["id"])
            answer = Path(json.loads(ack["data"])["file"])
            assert answer.parent == partner.outbox and answer.exists()
            (ic,) = (parse_x12 if po.standard == "x12" else parse_edifact)(answer.read_bytes())
            assert ic.messages[0].type in ("855", "ORDRSP")
        else:
            assert row["state"] in ("queued", "on_hold") and row["queue_reason"]
        st = po.ship_to
        ship = json.loads(row["ship_to"]) if row["ship_to"] else None
        if st is not None and (st.address_lines or st.city):
            assert ship and ship["city"] == st.city
        elif st is not None and st.id_code:
            assert f"partner party {st.id_code}" in row["queue_reason"]
        if po.requested_date:
            assert row["requested_date"] == po.requested_date.isoformat()
            assert "past" in row["queue_reason"]


def _reimport_refused(db: Path, sample: Path, partner) -> None:  # noqa: ANN001
    before, files = counts(db), sorted(partner.outbox.iterdir())
    again = run_cli("--db", str(db), "import", str(sample))
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "duplicate interchange" in again.stderr and "nothing imported" in again.stderr
    assert counts(db) == before and sorted(partner.outbox.iterdir()) == files
    check = run_cli("--db", str(db), "check")  # the orders made (some with no line yet) keep every invariant
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("sample", X12_850, ids=ids(X12_850))
def test_every_x12_850_sample_imports_with_a_997_and_a_resend_is_refused(sample: Path, demo_db: Path, desk_for,
                                                                          tmp_path: Path) -> None:
    partner = set_up_partner(desk_for(demo_db, None), sample, tmp_path)
    proc = run_cli("--db", str(demo_db), "import", str(sample), "--format", "x12")
    assert proc.returncode == 0, proc.stderr
    deliver(demo_db)
    _check_orders(demo_db, sample, partner, proc.stdout)
    acks = sorted(a for a in partner.outbox.iterdir() if "-997-" in a.name)
    assert [a.name for a in acks][:1] == [f"{partner.name}-997-000000001.x12"]
    n_interchanges = len(read_outcomes(sample))
    assert len(acks) == n_interchanges
    for ack in acks:
        (ic,) = parse_x12(ack.read_bytes())
        seg = {m.type: m for m in ic.messages}["997"].segments
        ak9 = [s for s in seg if s[0] == "AK9"]
        assert ak9 and all(s[1] in ("A", "E", "P") for s in ak9)  # accepted (some with errors noted)
        assert ic.isa[6].strip() == read_outcomes(sample)[0][0].envelope().receiver_id.strip()
    _reimport_refused(demo_db, sample, partner)


@pytest.mark.parametrize("sample", EDIFACT_SAMPLES, ids=ids(EDIFACT_SAMPLES))
def test_every_edifact_sample_imports_with_a_contrl_and_a_resend_is_refused(sample: Path, demo_db: Path, desk_for,
                                                                             tmp_path: Path) -> None:
    partner = set_up_partner(desk_for(demo_db, None), sample, tmp_path)
    proc = run_cli("--db", str(demo_db), "import", str(sample))  # detected from its first segment
    assert proc.returncode == 0, proc.stderr
    deliver(demo_db)
    _check_orders(demo_db, sample, partner, proc.stdout)
    acks = sorted(partner.outbox.iterdir())
    acks = [a for a in acks if "-CONTRL-" in a.name]
    assert len(acks) == len(read_outcomes(sample))
    for ack in acks:
        text = ack.read_text(encoding="utf-8")
        (ic,) = parse_edifact(text)
        contrl = ic.messages[0]
        assert contrl.type == "CONTRL"
        uci = [s for s in contrl.segments if s.tag == "UCI"][0]
        assert uci.elements[3] == "7"  # interchange acknowledged
        assert all(s.elements[2] == "7" for s in contrl.segments if s.tag == "UCM")
        assert [s.tag for s in PydifactInterchange.from_str(text).get_segments("UCI")] == ["UCI"]
    _reimport_refused(demo_db, sample, partner)
