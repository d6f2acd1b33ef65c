"""orderq import --format online-retail on real slices of the UCI file: as history (`--history`: completed sales,
cancellations become returns of them) and as live intake (straight-through or queued; nothing shipped, so no
cancellation can become a return)."""
from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import connect_db, json_lines, run_cli
from tests.intake.expected import cents, expect


def _db(tmp: Path) -> Path:
    p = tmp / "orderq.db"
    run_cli("--db", str(p), "init", check=True)
    return p


def _import(db: Path, file: Path, *extra: str) -> dict:
    proc = run_cli("--db", str(db), "import", str(file), "--json", *extra, check=True)
    return json_lines(proc.stdout)[-1]


def _rejects(path: Path) -> dict[int, dict]:
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {int(r["row"]): r for r in csv.DictReader(fh)}


def _conn(db: Path) -> sqlite3.Connection:
    c = connect_db(db)
    c.row_factory = sqlite3.Row
    return c


def _imported_mess(slices, tmp_path_factory, name: str, *extra: str):  # noqa: ANN001, ANN202
    tmp = tmp_path_factory.mktemp(name)
    file = slices.file(f"{name}.csv.gz", slices.mess)
    db = _db(tmp)
    rej = tmp / f"{name}.rejects.csv"
    summary = _import(db, file, *extra, "--rejects", str(rej))
    return db, file, summary, _rejects(rej), expect(slices.mess)


@pytest.fixture(scope="module")
def mess(slices, tmp_path_factory):  # noqa: ANN001, ANN201
    """The mess imported as history: completed sales, so cancellations become returns."""
    return _imported_mess(slices, tmp_path_factory, "mess", "--history")


@pytest.fixture(scope="module")
def live_mess(slices, tmp_path_factory):  # noqa: ANN001, ANN201
    """The same rows as live intake: straight-through or queued, nothing shipped."""
    return _imported_mess(slices, tmp_path_factory, "live-mess")


def test_every_row_ends_in_an_order_a_return_or_the_rejects(mess) -> None:  # noqa: ANN001
    db, _file, summary, rejects, exp = mess
    assert summary["rows_read"] == exp.rows and summary["conserved"] is True
    c = _conn(db)
    accounted: Counter = Counter()
    orders = {r["source_ref"]: r for r in c.execute("SELECT * FROM orders")}
    assert set(orders) == set(exp.orders), "one order per sales invoice with goods"
    for ref, (goods, charges, total) in exp.orders.items():
        o = orders[ref]
        assert o["total_cents"] == total, f"{ref}: total must be Σ qty × price of its accepted lines"
        n_lines = c.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", (o["id"],)).fetchone()[0]
        n_charges = c.execute("SELECT COUNT(*) FROM order_charges WHERE order_id = ?", (o["id"],)).fetchone()[0]
        assert (n_lines, n_charges) == (len(goods), len(charges)), ref
        accounted.update(goods + charges)
    returned = Counter()
    for r in c.execute("SELECT note FROM return_lines"):
        returned[int(re.search(r"row (\d+)", r["note"]).group(1))] = 1
    accounted.update(returned)
    accounted.update(list(rejects))
    assert set(accounted) == set(range(2, exp.rows + 2)), "every row is accounted for"
    twice = {row for row, n in accounted.items() if n > 1}
    assert twice == {row for row in returned if row in rejects} == {
        row for row, r in rejects.items() if row in returned and r["reason"] == "cancellation-unmatched"}, \
        "no row twice, but a cancellation matched in part: its rest is rejected"
    assert len(twice) == summary["partly_returned_rows"]
    assert sum(orders[r]["total_cents"] for r in orders) == sum(t for _g, _c, t in exp.orders.values())
    assert Decimal(summary["order_total"]) * 100 == sum(t for _g, _c, t in exp.orders.values())


def test_rejects_carry_row_number_and_reason(mess) -> None:  # noqa: ANN001
    _db_, _file, summary, rejects, exp = mess
    for row, reason in exp.sure_rejects.items():
        assert rejects[row]["reason"] == reason, row
        assert rejects[row]["detail"]
    reasons = Counter(r["reason"] for r in rejects.values())
    assert reasons == Counter(summary["rejects_by_reason"])
    for must in ("bad-debt-adjustment", "negative-quantity", "cancellation-unmatched"):
        assert reasons[must] > 0, must
    # unmatched cancellations are the cancellation rows that did not become returns, and say why
    for row, r in rejects.items():
        if r["reason"] == "cancellation-unmatched":
            assert row in exp.cancel_rows and "bought" in r["detail"]


def test_cancellations_match_earlier_lines_of_the_same_customer_and_sku(mess) -> None:  # noqa: ANN001
    db, _file, summary, rejects, exp = mess
    c = _conn(db)
    rets = c.execute("SELECT r.*, cu.code FROM returns r JOIN customers cu ON cu.id = r.customer_id").fetchall()
    assert len(rets) == summary["returns"] > 0
    per_row: dict[int, int] = defaultdict(int)
    for r in rets:
        assert (r["state"], r["resolution"], r["fee_cents"]) == ("resolved", "refund", 0)
        assert r["note"].startswith("imported cancellation " + r["source_ref"])
        lines = c.execute(
            """SELECT rl.*, l.sku AS line_sku, o.received_at AS ordered_at, o.source_ref AS bought_on, o.state AS ostate,
                      cu.code AS buyer
               FROM return_lines rl JOIN order_lines l ON l.id = rl.order_line_id JOIN orders o ON o.id = rl.order_id
               JOIN customers cu ON cu.id = o.customer_id WHERE rl.return_id = ?""", (r["id"],)).fetchall()
        refund = 0
        for ln in lines:
            row = int(re.search(r"row (\d+)", ln["note"]).group(1))
            inv, cust, sku, qty, price = exp.cancel_rows[row]
            assert inv == r["source_ref"] and cust == r["code"] == ln["buyer"]
            assert sku == ln["sku"] == ln["line_sku"]
            assert ln["ordered_at"] < r["requested_at"] or (
                ln["ordered_at"] == r["requested_at"] and int(ln["bought_on"]) < int(r["source_ref"][1:])), \
                "matched against an earlier invoice: in the same minute, one with a lower number"
            assert ln["ostate"] == "shipped", "a return takes back only shipped goods"
            assert ln["reason"] == "other"
            per_row[row] += ln["qty"]
            refund += ln["refund_cents"]
        assert r["refund_cents"] == refund
    for row, qty in per_row.items():
        inv, cust, sku, want, price = exp.cancel_rows[row]
        assert qty <= want
        if qty < want:  # matched in part: the rest is rejected, with its quantity and reason
            assert rejects[row]["reason"] == "cancellation-unmatched" and int(rejects[row]["qty"]) == -(want - qty)
    # the refund of each cancellation is |qty| × price, exactly
    assert sum(r["refund_cents"] for r in rets) == sum(
        cents(exp.cancel_rows[row][3] * exp.cancel_rows[row][4]) for row in per_row)
    # qty_returned on the order lines is what the returns took, never more than was bought
    for ln in c.execute("""SELECT l.id, l.qty, l.qty_returned, COALESCE(SUM(rl.qty), 0) AS took FROM order_lines l
                           LEFT JOIN return_lines rl ON rl.order_line_id = l.id GROUP BY l.id"""):
        assert ln["qty_returned"] == ln["took"] <= ln["qty"]
    assert set(per_row) | {r for r, x in rejects.items() if x["reason"] == "cancellation-unmatched"} == set(exp.cancel_rows)


def test_straight_through_releases_clean_orders_and_queues_the_rest_with_a_reason(live_mess) -> None:  # noqa: ANN001
    db, *_ = live_mess
    c = _conn(db)
    rows = c.execute("SELECT o.*, cu.known FROM orders o JOIN customers cu ON cu.id = o.customer_id").fetchall()
    released = [o for o in rows if o["state"] == "released"]
    queued = [o for o in rows if o["state"] != "released"]
    assert released and queued
    assert all(o["straight_through"] == 1 and o["released_by"] == "system" and o["queue_reason"] is None
               for o in released)
    assert all(o["straight_through"] == 0 and o["queue_reason"] for o in queued)
    assert all("unknown customer" in o["queue_reason"] for o in queued if not o["known"])
    assert all(o["known"] for o in released), "guest checkouts never go straight through"
    # stock: opening stock minus what the straight-through orders took, and the log says so
    for p in c.execute("SELECT sku, stock FROM products"):
        took = c.execute("""SELECT COALESCE(SUM(l.qty), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
                            WHERE l.sku = ? AND o.state = 'released'""", (p["sku"],)).fetchone()[0]
        assert p["stock"] == 100_000 - took
    for o in released[:50]:
        ev = c.execute("SELECT data FROM events WHERE entity='order' AND entity_id=? AND action='auto_release'",
                       (o["id"],)).fetchone()
        assert json.loads(ev["data"])["state"] == "released" and json.loads(ev["data"])["stock"]
    proc = run_cli("--db", str(db), "check", "--json")
    assert proc.returncode == 0, proc.stdout


def test_live_intake_books_no_return_against_an_order_that_has_not_shipped(live_mess) -> None:  # noqa: ANN001
    """Live intake ships nothing, so a cancellation of a purchase still queued, held or released is rejected
    with the reason, never a refund of goods that never left."""
    db, _file, summary, rejects, exp = live_mess
    c = _conn(db)
    assert c.execute("SELECT COUNT(*) FROM returns").fetchone()[0] == summary["returns"] == 0
    reasons = Counter(r["reason"] for r in rejects.values())
    assert reasons["cancellation-not-shipped"] > 0
    for row, r in rejects.items():
        if r["reason"] == "cancellation-not-shipped":
            assert row in exp.cancel_rows and "not shipped" in r["detail"]
    assert summary["conserved"] and c.execute(
        "SELECT COUNT(*) FROM orders WHERE state = 'shipped'").fetchone()[0] == 0


def test_importing_the_same_file_twice_adds_nothing(mess, tmp_path) -> None:  # noqa: ANN001
    db, file, first, _rej, _exp = mess
    c = _conn(db)
    tables = ("orders", "order_lines", "order_charges", "returns", "return_lines", "customers", "products", "events")
    before = {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    again = _import(db, file, "--history", "--rejects", str(tmp_path / "again.csv"))
    after = {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    assert after == before
    assert again["orders"] == again["returns"] == 0
    assert again["already_imported_orders"] == first["orders"] + first["returns"]
    assert again["conserved"] is True


def test_strict_refuses_the_whole_file_and_writes_nothing(slices, tmp_path) -> None:  # noqa: ANN001
    db = _db(tmp_path)
    file = slices.file("strict.csv", slices.mess)
    proc = run_cli("--db", str(db), "import", str(file), "--strict", "--rejects", str(tmp_path / "r.csv"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--strict" in proc.stderr and "Traceback" not in proc.stderr
    c = _conn(db)
    assert c.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0
    assert c.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 0


def test_a_rep_may_not_import_and_bad_files_are_refused_in_one_line(slices, demo_db, tmp_path) -> None:  # noqa: ANN001
    file = slices.file("head.csv", slices.head[:5])
    proc = run_cli("--db", str(demo_db), "import", str(file), "--user", "alice")
    assert proc.returncode == 2 and "Only supervisors and admins can import" in proc.stderr
    ok = run_cli("--db", str(demo_db), "import", str(file), "--user", "sam", "--json",
                 "--rejects", str(tmp_path / "r.csv"))
    assert ok.returncode == 0 and json.loads(ok.stdout)["orders"] > 0
    junk = tmp_path / "junk.csv.gz"
    junk.write_bytes(b"this is not gzip")
    for bad in (junk, tmp_path / "missing.csv"):
        proc = run_cli("--db", str(demo_db), "import", str(bad), "--format", "online-retail")
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
