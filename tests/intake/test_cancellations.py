"""Cancellations (online-retail `C` invoices) against a small file in the real layout: matched in part,
"earlier" decided by time then invoice number (never by where a row sits in the file), only against shipped
goods; charges-only invoices of known customers; and `orderq check` catching a return of unshipped goods."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import connect_db, json_lines, run_cli
from tests.intake.conftest import write_slice

CUST = "12345"


def _row(inv: str, sku: str, qty: int, when: str, price: str = "2.50", cust: str = CUST) -> list[str]:
    return [inv, sku, f"item {sku}", str(qty), f"2011-01-{when}:00", price, cust, "United Kingdom"]


ROWS = [
    _row("600010", "A1", 3, "05 10:00"),
    _row("C600011", "A1", -5, "06 10:00"),            # 3 bought earlier: 3 come back, 2 are rejected
    _row("C600021", "B1", -1, "07 10:00"),            # same minute as 600020, a higher number: 600020 is earlier
    _row("600020", "B1", 1, "07 10:00"),
    _row("600032", "C1", 1, "08 10:00"),              # same minute as C600031 but a higher number: later
    _row("C600031", "C1", -1, "08 10:00"),
    _row("600040", "M", 1, "09 11:00", "50.00"),      # a manual charge of a known customer: revenue
    _row("600041", "POST", 1, "09 12:00", "18.00", ""),  # a guest's postage alone: no one to bill
]


def _import(tmp: Path, *extra: str) -> tuple[Path, dict, dict[int, dict]]:
    file = write_slice(tmp / "c.csv", [[r] for r in ROWS])
    db = tmp / "orderq.db"
    run_cli("--db", str(db), "init", check=True)
    rej = tmp / "c.rejects.csv"
    s = json_lines(run_cli("--db", str(db), "import", str(file), "--json", "--rejects", str(rej), *extra,
                           check=True).stdout)[-1]
    with open(rej, newline="", encoding="utf-8") as fh:
        return db, s, {int(r["row"]): r for r in csv.DictReader(fh)}


def _returned(db: Path) -> dict[str, list[tuple[str, str, int]]]:
    c = connect_db(db)
    out: dict[str, list[tuple[str, str, int]]] = {}
    for ref, bought_on, sku, qty in c.execute(
            """SELECT r.source_ref, o.source_ref, rl.sku, rl.qty FROM return_lines rl JOIN returns r ON r.id = rl.return_id
               JOIN orders o ON o.id = rl.order_id ORDER BY rl.id"""):
        out.setdefault(ref, []).append((bought_on, sku, qty))
    return out


def test_history_cancellations_match_in_part_and_by_invoice_number_within_a_minute(tmp_path: Path) -> None:
    db, s, rejects = _import(tmp_path, "--history")
    assert s["conserved"] and s["partly_returned_rows"] == 1
    assert _returned(db) == {"C600011": [("600010", "A1", 3)], "C600021": [("600020", "B1", 1)]}
    # row numbers: the header is row 1
    assert rejects[3]["reason"] == "cancellation-unmatched" and rejects[3]["qty"] == "-2"
    assert "3 of 5 taken back" in rejects[3]["detail"]
    assert rejects[7]["reason"] == "cancellation-unmatched", "600032 is later than C600031, though read before it"
    assert rejects[9]["reason"] == "charges-only-invoice" and set(rejects) == {3, 7, 9}
    c = connect_db(db)
    total, state, lines = c.execute(
        """SELECT o.total_cents, o.state, (SELECT COUNT(*) FROM order_lines WHERE order_id = o.id) FROM orders o
           WHERE source_ref = '600040'""").fetchone()
    assert (total, state, lines) == (5000, "shipped", 0), "an order of charges"
    assert c.execute("SELECT SUM(amount_cents) FROM order_charges").fetchone()[0] == 5000
    assert run_cli("--db", str(db), "check").returncode == 0


def test_live_intake_rejects_a_cancellation_of_goods_not_shipped(tmp_path: Path) -> None:
    db, s, rejects = _import(tmp_path)
    assert s["returns"] == 0 and _returned(db) == {}
    assert {rejects[r]["reason"] for r in (3, 4)} == {"cancellation-not-shipped"}
    assert "not shipped" in rejects[3]["detail"]
    assert run_cli("--db", str(db), "check").returncode == 0


def test_check_fails_on_a_return_of_an_order_that_has_not_shipped(tmp_path: Path) -> None:
    db, _s, _rej = _import(tmp_path)  # live: the orders are released or queued, none shipped
    c = connect_db(db)
    oid, number, cust, lid, sku = c.execute(
        """SELECT o.id, o.number, o.customer_id, l.id, l.sku FROM orders o JOIN order_lines l ON l.order_id = o.id
           WHERE o.source_ref = '600010'""").fetchone()
    with c:  # behind the app's back: a refund of goods that never left
        c.execute("""INSERT INTO returns (id, number, customer_id, state, resolution, priority, priority_level, tier_rank,
                       requested_by, requested_at, due_at, received_at, resolved_at, created_at, updated_at)
                     VALUES (99, 'RMA-000099', ?, 'resolved', 'refund', 'P3', 3, 2, 'x', 0, 0, 0, 0, 0, 0)""", (cust,))
        c.execute("""INSERT INTO return_lines (return_id, order_id, order_line_id, sku, qty, qty_received, reason)
                     VALUES (99, ?, ?, ?, 1, 1, 'other')""", (oid, lid, sku))
        c.execute("UPDATE order_lines SET qty_returned = 1 WHERE id = ?", (lid,))
    proc = run_cli("--db", str(db), "check", "--json")
    assert proc.returncode != 0
    failed = {ch["name"]: ch["problems"] for ch in json.loads(proc.stdout)["checks"] if not ch["ok"]}
    problems = failed["returns only of shipped orders"]
    assert len(problems) == 1 and number in problems[0] and "RMA-000099" in problems[0] and "released" in problems[0]
