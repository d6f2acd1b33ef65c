"""The drop folder takes EDI interchanges too (`intake --watch DIR --once`, a real process): an 850 is
imported and moved to done/, its 997 in the partner's outbox; the same interchange dropped again goes to
failed/ with the duplicate reason beside it, and nothing more is written."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import json_lines, run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import deliver, counts, set_up_partner

ONE = EDI / "x12" / "850-004010-03.x12"
EDIFACT = EDI / "edifact" / "pydifact-order.edi"


def _sweep(db: Path, drop: Path) -> list[dict]:
    proc = run_cli("--db", str(db), "intake", "--watch", str(drop), "--once", "--settle", "0.1", "--json", check=True)
    return json_lines(proc.stdout)


def test_drop_folder_imports_interchanges_once(demo_db: Path, desk_for, tmp_path: Path) -> None:
    desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, ONE, tmp_path)
    other = set_up_partner(desk, EDIFACT, tmp_path, name="eu")
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(ONE, drop / "po-1.x12")
    shutil.copy(EDIFACT, drop / "orders-1.edi")
    got = {r["file"]: r for r in _sweep(demo_db, drop)}
    assert got["po-1.x12"]["outcome"] == "done" and got["po-1.x12"]["orders"] == 1
    assert got["orders-1.edi"]["outcome"] == "done" and got["orders-1.edi"]["orders"] == 1
    assert (drop / "done" / "po-1.x12").exists() and (drop / "done" / "orders-1.edi").exists()
    deliver(demo_db)
    assert [p.name for p in partner.outbox.iterdir()] == ["acme-997-000000001.x12"]
    assert [p.name for p in other.outbox.iterdir()] == ["eu-CONTRL-000000001.edi"]
    before = counts(demo_db)
    shutil.copy(ONE, drop / "po-1-again.x12")
    (again,) = _sweep(demo_db, drop)
    assert again["outcome"] == "failed" and "duplicate interchange 000000001 from acme" in again["reason"]
    reason = (drop / "failed" / "po-1-again.x12.reason").read_text(encoding="utf-8")
    assert "duplicate interchange" in reason and reason.count("\n") == 1  # one line, said once
    deliver(demo_db)
    assert counts(demo_db) == before and len(list(partner.outbox.iterdir())) == 1
