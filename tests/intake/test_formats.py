"""Northwind and the generic csv / jsonl formats."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import connect_db, json_lines, run_cli


def _rejects(path: Path) -> dict[int, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {int(r["row"]): r["reason"] for r in csv.DictReader(fh)}


def test_northwind_customers_products_stock_and_shipped_state(data_dir: Path, db_path: Path, tmp_path: Path) -> None:
    folder = data_dir / "northwind"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert (s["format"], s["rejects"], s["conserved"]) == ("northwind", 0, True)
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        orders = list(csv.DictReader(fh))
    unshipped = {f"NW-{o['orderID']}" for o in orders if o["shippedDate"] == "NULL"}
    with open(folder / "products.csv", newline="", encoding="utf-8") as fh:
        stock = {f"NW-{p['productID']}": int(p["unitsInStock"]) for p in csv.DictReader(fh)}
    c = connect_db(db_path)
    assert c.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 91
    states = dict(c.execute("SELECT source_ref, state FROM orders"))
    assert len(states) == len(orders) == 830
    assert {r for r, st in states.items() if st != "shipped"} == unshipped
    # open orders went through straight-through processing: released ones took their stock
    taken: dict[str, int] = {}
    for sku, qty in c.execute("""SELECT l.sku, l.qty FROM order_lines l JOIN orders o ON o.id = l.order_id
                                 WHERE o.state = 'released'"""):
        taken[sku] = taken.get(sku, 0) + qty
    assert dict(c.execute("SELECT sku, stock FROM products")) == {k: v - taken.get(k, 0) for k, v in stock.items()}
    for ref, state, reason in c.execute("SELECT source_ref, state, queue_reason FROM orders WHERE state != 'shipped'"):
        assert (state == "released") == (reason is None), ref
    assert run_cli("--db", str(db_path), "check").returncode == 0
    again = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert again["orders"] == 0 and again["already_imported_orders"] == 830


def test_northwind_as_history_carries_its_own_dates_and_leaves_no_open_work(data_dir: Path, db_path: Path,
                                                                           tmp_path: Path) -> None:
    """`--history`: each shipped order is received, due and shipped on its OrderDate, RequiredDate and
    ShippedDate; one that never shipped is not history (rejected, with the reason) and a live re-run takes it."""
    from datetime import UTC, datetime

    folder = data_dir / "northwind"
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        orders = {f"NW-{o['orderID']}": o for o in csv.DictReader(fh)}
    with open(folder / "order-details.csv", newline="", encoding="utf-8") as fh:
        details = list(csv.DictReader(fh))
    unshipped = {ref for ref, o in orders.items() if o["shippedDate"] == "NULL"}
    rej = tmp_path / "nw.rejects.csv"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--history", "--json", "--rejects", str(rej),
                           check=True).stdout)[-1]
    unshipped_lines = sum(1 for d in details if f"NW-{d['orderID']}" in unshipped)
    assert s["conserved"] and s["by_state"] == {"shipped": len(orders) - len(unshipped)}
    assert s["rejects_by_reason"] == {"history-unshipped": len(unshipped) + unshipped_lines}

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    c = connect_db(db_path)
    for ref, received, due, released, shipped, history in c.execute(
            "SELECT source_ref, received_at, due_at, released_at, shipped_at, history FROM orders"):
        o = orders[ref]
        assert (received, due, shipped) == (epoch(o["orderDate"]), epoch(o["requiredDate"]), epoch(o["shippedDate"]))
        assert released == shipped and history == 1
    listed = run_cli("--db", str(db_path), "order", "list", check=True).stdout
    assert "overdue" not in listed, "a sale shipped in 1997 is not overdue work"
    kpi = json.loads(run_cli("--db", str(db_path), "kpi", "--json", check=True).stdout)["orders"]
    assert sum(kpi["queue_depth"].values()) == kpi["on_hold"] == kpi["sla_breached_open"] == 0
    # the orders still open in the export are live work only when asked for
    again = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", "--rejects", str(rej),
                               check=True).stdout)[-1]
    assert again["orders"] == len(unshipped) and again["already_imported_orders"] == len(orders) - len(unshipped)
    assert run_cli("--db", str(db_path), "check").returncode == 0


def test_northwind_malformed_fields_are_rejected_rows_not_a_crash(data_dir: Path, db_path: Path,
                                                                  tmp_path: Path) -> None:
    """A copy of the real Northwind folder with one order's quantity and one product's price broken:
    those rows go to the rejects with the reason, everything else imports, and no traceback."""
    import shutil

    folder = tmp_path / "northwind"
    shutil.copytree(data_dir / "northwind", folder)

    def rewrite(name: str, change) -> dict:  # noqa: ANN001
        with open(folder / name, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, list(reader)
        hit = change(rows)
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        return hit

    def break_quantity(rows: list[dict]) -> dict:
        rows[0]["quantity"] = "twelve"
        return rows[0]

    def break_price(rows: list[dict]) -> dict:
        rows[-1]["unitPrice"] = "1,5"
        return rows[-1]

    detail = rewrite("order-details.csv", break_quantity)
    product = rewrite("products.csv", break_price)
    order_lines = sum(1 for d in csv.DictReader(open(folder / "order-details.csv", newline="", encoding="utf-8"))
                      if d["orderID"] == detail["orderID"])
    rejects = tmp_path / "rejects.csv"
    p = run_cli("--db", str(db_path), "import", str(folder), "--json", "--rejects", str(rejects))
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    s = json_lines(p.stdout)[-1]
    nw = f"NW-{product['productID']}"
    with open(folder / "order-details.csv", newline="", encoding="utf-8") as fh:
        details = list(csv.DictReader(fh))
    using = {d["orderID"] for d in details if f"NW-{d['productID']}" == nw} - {detail["orderID"]}
    using_lines = sum(1 for d in details if d["orderID"] in using)
    assert s["conserved"]
    assert s["rejects_by_reason"] == {"bad-row": 1 + 1 + order_lines,  # the product, the order and its lines
                                      "unknown-sku": len(using) + using_lines}  # orders of the rejected product
    c = connect_db(db_path)
    assert c.execute("SELECT 1 FROM orders WHERE source_ref = ?", (f"NW-{detail['orderID']}",)).fetchone() is None
    assert c.execute("SELECT 1 FROM products WHERE sku = ?", (nw,)).fetchone() is None
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        orders = sum(1 for _ in csv.DictReader(fh))
    assert c.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == orders - 1 - len(using)
    assert set(_rejects(rejects).values()) == {"bad-row", "unknown-sku"}


def test_generic_csv_and_jsonl(demo_db: Path, tmp_path: Path) -> None:
    c = connect_db(demo_db)
    cust = c.execute("SELECT code FROM customers ORDER BY id LIMIT 1").fetchone()[0]
    sku, price_e4 = c.execute("SELECT sku, price_e4 FROM products WHERE active = 1 ORDER BY sku LIMIT 1").fetchone()
    rows = [
        # order_ref, customer, channel, type, sku, qty, unit_price, discount, received_at
        ("WEB-1", cust, "online", "standard", sku, "2", "", "", "2026-11-26T08:00:00Z"),
        ("WEB-1", cust, "online", "standard", sku, "1", "9.99", "10", ""),
        ("WEB-1", cust, "online", "standard", "POST", "1", "4.95", "", ""),
        ("WEB-2", "NOBODY", "edi", "standard", sku, "1", "", "", ""),
        ("WEB-3", cust, "phone", "rush", "NO-SUCH-SKU", "1", "", "", ""),
        ("WEB-3", cust, "phone", "rush", sku, "0", "", "", ""),
        ("WEB-3", cust, "phone", "rush", sku, "3", "1.5", "", ""),
    ]
    header = ("order_ref", "customer", "channel", "type", "sku", "qty", "unit_price", "discount", "received_at")
    f = tmp_path / "orders.csv"
    with open(f, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    rej = tmp_path / "orders.rejects.csv"
    s = json_lines(run_cli("--db", str(demo_db), "import", str(f), "--json", "--rejects", str(rej), check=True).stdout)[-1]
    assert (s["format"], s["orders"], s["lines"], s["charges"], s["conserved"]) == ("csv", 2, 3, 1, True)
    assert _rejects(rej) == {5: "unknown-customer", 6: "unknown-sku", 7: "zero-quantity"}
    o = dict(c.execute("SELECT source_ref, total_cents FROM orders WHERE source_ref LIKE 'WEB-%'"))
    # 2 × list price + 1 × 9.99 less 10% (8.991 → 8.99) + 4.95 postage
    assert o["WEB-1"] == round(2 * price_e4 / 100) + 899 + 495
    assert o["WEB-3"] == 450
    ch, typ = c.execute("SELECT channel, type FROM orders WHERE source_ref = 'WEB-3'").fetchone()
    assert (ch, typ) == ("phone", "rush")

    j = tmp_path / "more.jsonl"
    j.write_text("\n".join([
        json.dumps({"order_ref": "EDI-9", "customer": cust, "channel": "edi", "sku": sku, "qty": 4}),
        json.dumps({"order_ref": "EDI-9", "customer": cust, "channel": "edi", "sku": sku, "qty": 1, "unit_price": 2.5}),
        "not json",
    ]) + "\n")
    s = json_lines(run_cli("--db", str(demo_db), "import", str(j), "--json", "--rejects", str(tmp_path / "j.csv"),
                           check=True).stdout)[-1]
    assert (s["format"], s["orders"], s["lines"], s["rejects"]) == ("jsonl", 1, 1, 2)
    assert set(_rejects(tmp_path / "j.csv").values()) == {"bad-row"}
    assert run_cli("--db", str(demo_db), "check").returncode == 0
