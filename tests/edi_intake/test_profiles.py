"""`orderq partners edi / xref / barcodes` as real processes: set up, then refused bad input is one
line, exit 2, nothing written; barcodes count as item codes for every partner (a UPC matches its GTIN)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import counts, rows

ASCII1 = EDI / "x12" / "850-004010-ascii1.x12"   # ISA 12:1234567890, PO1 lines with UPCs


def _cli(db: Path, *args: str):  # noqa: ANN202
    return run_cli("--db", str(db), *args)


@pytest.fixture
def edi_partner(demo_db: Path, tmp_path: Path) -> Path:
    assert _cli(demo_db, "partners", "add", "acme", "--channel", "edi", "--customer", "C00003").returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_profile_xref_and_barcodes_feed_the_import(demo_db: Path, edi_partner: Path, tmp_path: Path) -> None:
    proc = _cli(demo_db, "partners", "edi", "acme", "--isa", "12:1234567890", "--outbox", str(edi_partner))
    assert proc.returncode == 0 and "ISA 12:1234567890" in proc.stdout, proc.stderr
    skus = [r["sku"] for r in rows(demo_db, "SELECT sku FROM products WHERE active = 1 ORDER BY sku LIMIT 3")]
    xref = tmp_path / "xref.csv"
    xref.write_text(f"123456789012,UP,{skus[0]}\n", encoding="utf-8")   # no header: optional
    assert _cli(demo_db, "partners", "xref", "acme", str(xref)).returncode == 0
    bars = tmp_path / "bars.csv"
    bars.write_text(f"sku,barcode\n{skus[1]},0234567890123\n", encoding="utf-8")  # the EAN-13 of UPC 234567890123
    assert _cli(demo_db, "partners", "barcodes", str(bars)).returncode == 0
    assert _cli(demo_db, "import", str(ASCII1)).returncode == 0
    (order,) = rows(demo_db, "SELECT o.id, o.queue_reason FROM orders o JOIN edi_orders e ON e.order_id = o.id")
    lines = [r["sku"] for r in rows(demo_db, "SELECT sku FROM order_lines WHERE order_id = ? ORDER BY line_no",
                                    order["id"])]
    assert lines == [skus[0], skus[1]]  # one by the partner's xref, one by our barcode
    assert "partner item 34567890123 (N4) unknown" in order["queue_reason"]
    assert "partner item 456789012345 (UP) unknown" in order["queue_reason"]
    assert "123456789012" not in order["queue_reason"] and "234567890123" not in order["queue_reason"]


@pytest.mark.parametrize("args, says", [
    (["partners", "edi", "acme", "--isa", "1234567890"], "give QUALIFIER:ID"),
    (["partners", "edi", "acme", "--isa", "12:1234567890"], "needs --outbox DIR"),
    (["partners", "edi", "acme", "--isa", "12:X", "--outbox", "/nonexistent/dir"], "is not a folder"),
    (["partners", "edi", "nobody", "--unb", "X", "--outbox", "."], "unknown partner 'nobody'"),
    (["partners", "edi", "acme", "--unb", "X", "--outbox", ".", "--party", "ST1=999999"], "is not a ship-to of C00003"),
    (["partners", "xref", "acme", "XREF_BAD_SKU"], "row 3: unknown SKU 'NOPE'"),
    (["partners", "xref", "acme", "XREF_SHORT"], "row 1: 2 fields, expected 3"),
    (["partners", "xref", "acme", "/nonexistent.csv"], "cannot read"),
    (["partners", "barcodes", "BARS_BAD"], "is not a GTIN/UPC"),
])
def test_bad_profile_input_is_one_line_and_writes_nothing(args: list[str], says: str, demo_db: Path,
                                                          edi_partner: Path, tmp_path: Path) -> None:
    sku = rows(demo_db, "SELECT sku FROM products ORDER BY sku LIMIT 1")[0]["sku"]
    files = {"XREF_BAD_SKU": f"code,qualifier,sku\n1,UP,{sku}\n2,UP,NOPE\n", "XREF_SHORT": "1,UP\n",
             "BARS_BAD": f"{sku},12345\n"}
    args = [str(_write(tmp_path, a, files[a])) if a in files else a for a in args]
    before = counts(demo_db)
    xref_before = rows(demo_db, "SELECT COUNT(*) AS n FROM edi_xref")[0]["n"]
    proc = _cli(demo_db, *args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert counts(demo_db)["events"] - before["events"] <= 1  # at most the refusal's own event
    assert rows(demo_db, "SELECT COUNT(*) AS n FROM edi_xref")[0]["n"] == xref_before
    assert rows(demo_db, "SELECT isa_id, unb_id, edi_outbox FROM partners WHERE name = 'acme'")[0][:] == (None, None, None)


def _write(tmp: Path, name: str, text: str) -> Path:
    f = tmp / f"{name}.csv"
    f.write_text(text, encoding="utf-8")
    return f
