"""A demo database with an EDI partner set up for a sample's sender, through the service layer; the
import itself runs as a real `orderq import` process in the tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.edi import detect_format
from core.edi.edifact import parse_edifact
from core.edi.edifact_orders import read_edifact_orders
from core.edi.purchase_order import OrderOutcome
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from db.service import Desk
from tests.api.conftest import query as rows  # noqa: F401 - the one row reader of the tests
from tests.conftest import connect_db

CUSTOMER = "C00003"


@dataclass
class Partner:
    name: str
    outbox: Path
    mapped_sku: str | None  # the SKU the first line's first code was cross-referenced to
    mapped_code: tuple[str, str] | None = None  # (qualifier, code)


def read_outcomes(path: Path) -> list[tuple[object, list[OrderOutcome]]]:
    data = path.read_bytes()
    if detect_format(data) == "x12":
        return [(ic, read_x12_orders(ic)) for ic in parse_x12(data)]
    return [(ic, read_edifact_orders(ic)) for ic in parse_edifact(data)]


def set_up_partner(desk: Desk, sample: Path, tmp: Path, *, name: str = "acme", map_first: bool = True) -> Partner:
    """A partner for the sample's sender, ordering for CUSTOMER, its outbox a new folder; the first
    line's first item code cross-referenced to a real SKU, the rest left unknown."""
    ic, outcomes = read_outcomes(sample)[0]
    env = ic.envelope()
    desk.partners.add(name, "edi", customer=CUSTOMER)
    outbox = tmp / f"outbox-{name}"
    outbox.mkdir()
    if env.standard == "x12":
        desk.edi_partners.set_profile(name, isa=f"{env.sender_qualifier}:{env.sender_id}", outbox=str(outbox))
    else:
        desk.edi_partners.set_profile(name, unb=env.sender_id, outbox=str(outbox))
    sku = mapped = None
    first = next((o.order for o in outcomes if o.order is not None and o.order.lines), None)
    if map_first and first is not None:
        sku = desk.store.conn.execute("SELECT sku FROM products WHERE active = 1 ORDER BY sku LIMIT 1").fetchone()[0]
        code = first.lines[0].item_codes[0]
        xref = tmp / f"xref-{name}.csv"
        xref.write_text(f"code,qualifier,sku\n{code.code},{code.qualifier},{sku}\n", encoding="utf-8")
        desk.edi_partners.load_xref(name, xref)
        mapped = (code.qualifier, code.code)
    return Partner(name, outbox, sku, mapped)


def deliver(db: Path) -> None:
    """A real `orderq deliver --once`: the acknowledgments the commands owed are written (db.outbox)."""
    from tests.conftest import run_cli

    run_cli("--db", str(db), "deliver", "--once", check=True)


def counts(db: Path) -> dict[str, int]:
    """What an import writes: orders, their lines, events, interchanges."""
    conn = connect_db(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("orders", "order_lines", "events", "edi_interchanges", "edi_orders", "edi_counters")}
    finally:
        conn.close()
