"""A rep maps an unknown partner item code to a SKU (the TUI's F4 calls this service): the mapping is
saved to the partner's cross-reference, this order gains the line and loses that reason, and the next
interchange from the partner resolves the code by itself."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationError
from db.service import Desk
from tests.conftest import run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import rows, set_up_partner

ASCII1 = EDI / "x12" / "850-004010-ascii1.x12"


def test_mapping_an_unknown_code_saves_it_and_re_evaluates_the_order(demo_db: Path, desk_for, tmp_path: Path) -> None:
    partner = set_up_partner(desk_for(demo_db, None), ASCII1, tmp_path)
    run_cli("--db", str(demo_db), "import", str(ASCII1), check=True)
    (o,) = rows(demo_db, "SELECT o.number, o.queue_reason FROM orders o JOIN edi_orders e ON e.order_id = o.id")
    assert "partner item 234567890123 (UP) unknown" in o["queue_reason"]
    rep: Desk = desk_for(demo_db, "alice")
    info = rep.edi_orders.info(o["number"])
    assert (info.partner, info.po_number, info.interchange) == ("acme", "12345678", "000000183")
    assert info.raw[0].startswith("ST*850*") and info.raw[-1].startswith("SE*")
    assert [a.document for a in info.acks] == ["997"]
    assert [u["reason"] for u in info.unknown][0] == "partner item 234567890123 (UP) unknown"
    rep.orders.unhold(o["number"], "the partner's prices checked: ours stand")  # ascii1's prices are not ours
    got = rep.orders.claim(o["number"])
    sku = rows(demo_db, "SELECT sku FROM products WHERE active = 1 ORDER BY sku LIMIT 1 OFFSET 5")[0]["sku"]
    with pytest.raises(ValidationError, match="unknown SKU 'NOPE'"):
        rep.edi_orders.map_item(o["number"], "UP", "234567890123", "NOPE", token=got.claim_token)
    assert rep.edi_orders.map_item(o["number"], "UP", "234567890123", sku, token=got.claim_token) == 1
    (after,) = rows(demo_db, "SELECT id, queue_reason FROM orders WHERE number = ?", o["number"])
    assert "234567890123" not in after["queue_reason"] and "456789012345 (UP) unknown" in after["queue_reason"]
    assert [r["sku"] for r in rows(demo_db, "SELECT sku FROM order_lines WHERE order_id = ? ORDER BY line_no",
                                   after["id"])] == [partner.mapped_sku, sku]
    assert rows(demo_db, "SELECT sku FROM edi_xref WHERE code = '234567890123' AND qualifier = 'UP'")[0]["sku"] == sku
    assert [u["reason"] for u in rep.edi_orders.info(o["number"]).unknown] == [
        "partner item 34567890123 (N4) unknown", "partner item 456789012345 (UP) unknown"]
