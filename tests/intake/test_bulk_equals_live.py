"""The bulk path writes exactly the rows and events that live order entry (`_create_in`) would."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from core.enums import Channel
from core.intake import CHARGE_CODES, amount_cents, parse_retail_row, plan_invoice
from db.importer import UK
from db.service import Desk
from db.service.orders import ChargeInput, LineInput
from tests.intake.conftest import write_slice


def _rows(c, sql: str) -> list[tuple]:  # noqa: ANN001
    return [tuple(r) for r in c.execute(sql)]


def test_bulk_import_equals_one_create_per_invoice(slices, tmp_path: Path, open_store, clock) -> None:  # noqa: ANN001
    invoices = [inv for inv in slices.head[:80] if not inv[0][0].startswith("C")]
    file = write_slice(tmp_path / "sales.csv", invoices)
    a, b = open_store(tmp_path / "a.db", create=True), open_store(tmp_path / "b.db", create=True)
    summary = Desk.operator(a, "importer").intake.import_file(file, rejects=tmp_path / "rej.csv")
    assert summary.orders > 50 and summary.straight_through and summary.orders > summary.straight_through

    # the same master data, as the import created it before any order touched the stock
    with b.write() as c:
        for table in ("customers", "customer_addresses", "customer_contacts"):  # with their addresses and contacts
            for r in a.conn.execute(f"SELECT * FROM {table} ORDER BY id"):
                c.execute(f"INSERT INTO {table} VALUES ({','.join('?' * len(r))})", tuple(r))
        for r in a.conn.execute("SELECT sku, description, price_e4, category, active FROM products"):
            c.execute("INSERT INTO products (sku, description, price_e4, stock, category, active) VALUES (?,?,?,?,?,?)",
                      (r[0], r[1], r[2], 100_000, r[3], r[4]))
    live = Desk.operator(b, "importer")
    row = 1
    for inv in invoices:
        lines = []
        for fields in inv:
            row += 1
            lines.append(parse_retail_row(row, fields, UK))
        plan = plan_invoice(lines)
        if not plan.goods:
            continue
        first = plan.goods[0]
        customer = first.customer or f"GUEST-{first.country.upper().replace(' ', '-')}"
        with b.write() as c:
            live.orders._create_in(
                c, now=clock(), customer=customer, channel=Channel.ONLINE, type="standard",
                lines=[LineInput(ln.sku, str(ln.qty), unit_price=str(Decimal(ln.price_e4) / 10000)) for ln in plan.goods],
                charges=[ChargeInput(ln.sku, str(Decimal(amount_cents(ln.qty, ln.price_e4)) / 100),
                                     CHARGE_CODES[ln.sku][0], ln.description or CHARGE_CODES[ln.sku][1])
                         for ln in plan.charges],
                received_at=first.received_at, source_ref=first.ref, note=None)

    for sql in ("SELECT * FROM orders ORDER BY id", "SELECT * FROM order_lines ORDER BY id",
                "SELECT order_id, code, kind, description, amount_cents FROM order_charges ORDER BY id",
                "SELECT sku, stock, version FROM products ORDER BY sku",
                "SELECT at, actor, entity, entity_id, ref, action, data FROM events WHERE entity = 'order' ORDER BY id"):
        assert _rows(a.conn, sql) == _rows(b.conn, sql), sql
