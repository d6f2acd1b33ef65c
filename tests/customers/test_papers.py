"""`order ack` and `order pick-ticket`: what the customer and the warehouse get, as text or printable HTML."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.customers.conftest import add_addresses
from tests.prove.conftest import fingerprint


def _order(cli, db: Path, ids: dict[str, int]) -> dict:  # noqa: ANN001
    wanted = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    return json.loads(cli("--db", str(db), "order", "new", "--user", "alice", "--customer", "C00006",
                          "--line", "BEV-0001:3", "--line", "HOM-0021:2:10", "--ship-to", str(ids["ship_2"]),
                          "--po", "PO-<b>77</b>", "--requested-date", wanted, "--ship-method", "express",
                          "--note", "<script>alert(1)</script>", "--json", check=True).stdout)


def test_ack_and_pick_ticket_as_text(demo_db: Path, cli) -> None:
    o = _order(cli, demo_db, add_addresses(demo_db))
    ack = cli("--db", str(demo_db), "order", "ack", o["number"], check=True).stdout
    assert o["number"] in ack and "PO-<b>77</b>" in ack and o["requested_date"] in ack
    assert "9 Dock Rd" in ack and "07101 Newark, NJ" in ack and "Accounts" in ack  # ship-to and bill-to
    assert all(ln["sku"] in ack and ln["amount"] in ack for ln in o["lines"]) and o["total"] in ack
    pick = cli("--db", str(demo_db), "order", "pick-ticket", o["number"], check=True).stdout
    assert "9 Dock Rd" in pick and "ship by express" in pick
    assert [ln for ln in pick.splitlines() if "BEV-0001" in ln][0].split()[-3] == "3"
    assert "units" in pick and " 5" in pick and "price" not in pick  # the warehouse gets quantities, not prices


def test_html_papers_are_escaped_guarded_and_replace_only_their_own(demo_db: Path, cli, tmp_path: Path) -> None:
    o = _order(cli, demo_db, add_addresses(demo_db))
    page = tmp_path / "pick.html"
    cli("--db", str(demo_db), "order", "pick-ticket", o["number"], "--html", str(page), check=True)
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "9 Dock Rd" in html and "express" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "PO-&lt;b&gt;77" in html
    assert "src=" not in html and "href=" not in html  # self-contained
    cli("--db", str(demo_db), "order", "ack", o["number"], "--html", str(page), check=True)  # its own: replaced
    assert "Order acknowledgment" in page.read_text()
    other = tmp_path / "notes.html"
    other.write_text("mine")
    before = fingerprint(demo_db)
    for dest in (other, demo_db, Path(f"{demo_db}-wal"), tmp_path):
        p = cli("--db", str(demo_db), "order", "ack", o["number"], "--html", str(dest))
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--html" in p.stderr, p.stderr
    assert other.read_text() == "mine" and fingerprint(demo_db) == before
