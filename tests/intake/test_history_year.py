"""The whole online-retail year imported as history (`import --history`), checked against figures computed
here from the raw file: every clean invoice is one order with its exact total, wherever its rows sit; the
return rate is what came back; and none of it is open work."""
from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import connect_db, json_lines, run_cli
from tests.intake.conftest import RETAIL
from tests.intake.expected import CHARGES, cents


def _rows(path: Path) -> Iterator[list[str]]:
    with io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        yield from reader


def _customer(text: str) -> str:
    text = text.strip()
    return text[:-2] if text.endswith(".0") else text


def _seq(inv: str) -> int:
    return int("".join(ch for ch in inv if ch.isdigit()))


@pytest.fixture(scope="module")
def year(session_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The raw file read once here, by invoice number (not by position), and the year imported once."""
    src = session_data_dir / RETAIL
    # invoice -> [goods lines, charge lines, total cents, customer]
    invoices: dict[str, list] = {}
    runs: dict[str, int] = defaultdict(int)
    last = None
    # (customer, sku) -> [(date, invoice number, +units bought | -units cancelled)]
    moves: dict[tuple[str, str], list[tuple[str, int, int]]] = defaultdict(list)
    shipped_units = 0
    for r in _rows(src):
        inv, sku, qty, when, price, cust = r[0].strip(), r[1].strip().upper(), int(r[3]), r[4], Decimal(r[5]), \
            _customer(r[6])
        if inv != last:
            runs[inv] += 1
            last = inv
        if inv.startswith("A") or qty == 0 or price < 0:
            continue
        if inv.startswith("C"):
            if qty < 0 and sku not in CHARGES and cust:
                moves[(cust, sku)].append((when, _seq(inv), qty))
            continue
        if qty < 0:
            continue
        o = invoices.setdefault(inv, [0, 0, 0, cust])
        o[1 if sku in CHARGES else 0] += 1
        o[2] += cents(qty * price)
        if sku not in CHARGES:
            shipped_units += qty
            if cust:
                moves[(cust, sku)].append((when, _seq(inv), qty))
    # a cancellation takes back what the customer bought before it (earlier minute, or the same minute and a
    # lower invoice number) and has not yet returned; what it cannot cover did not come back
    returned_units = 0
    for seq in moves.values():
        have = 0
        for _when, _no, q in sorted(seq):
            if q > 0:
                have += q
            else:
                took = min(-q, have)
                have -= took
                returned_units += took
    clean = {inv: (g, c, t) for inv, (g, c, t, cust) in invoices.items() if g or (c and cust)}
    tmp = tmp_path_factory.mktemp("year")
    db = tmp / "orderq.db"
    run_cli("--db", str(db), "init", check=True)
    summary = json_lines(run_cli("--db", str(db), "import", str(src), "--history", "--json",
                                 "--rejects", str(tmp / "rejects.csv"), check=True, timeout=600).stdout)[-1]
    scattered = {inv for inv, n in runs.items() if n > 1}
    return db, summary, clean, scattered, shipped_units, returned_units


def test_every_clean_invoice_is_one_order_with_its_exact_total(year) -> None:  # noqa: ANN001
    db, summary, clean, scattered, *_ = year
    assert summary["conserved"] and "split-invoice" not in summary["rejects_by_reason"]
    assert scattered & set(clean), "the real file has an invoice whose rows are not consecutive"
    c = connect_db(db)
    got = {ref: (n_lines, n_charges, total) for ref, n_lines, n_charges, total in c.execute(
        """SELECT o.source_ref, (SELECT COUNT(*) FROM order_lines WHERE order_id = o.id),
                  (SELECT COUNT(*) FROM order_charges WHERE order_id = o.id), o.total_cents FROM orders o""")}
    assert got == clean


def test_kpi_return_rate_is_units_returned_over_units_shipped(year) -> None:  # noqa: ANN001
    db, _summary, _clean, _scattered, shipped_units, returned_units = year
    out = json.loads(run_cli("--db", str(db), "kpi", "--json", "--since", "2010-12-01", "--until", "2011-12-10",
                             check=True).stdout)
    raw = 100.0 * returned_units / shipped_units
    assert abs(out["returns"]["return_rate_pct"] - raw) <= 0.1, (out["returns"]["return_rate_pct"], raw)
    o = out["orders"]
    assert o["released"] > 20_000 and o["electronic_share_pct"] == 100.0
    # what history cannot say is unknown, not 0 or fifteen years
    for key in ("cycle_time_p50_s", "cycle_time_p90_s", "sla_met_pct", "touchless_pct", "hold_rate_pct",
                "cancel_rate_pct"):
        assert o[key] is None, key
    assert out["returns"]["cycle_time_p50_s"] is None and out["returns"]["refund_time_p50_s"] is None
    text = run_cli("--db", str(db), "kpi", "--since", "2010-12-01", "--until", "2011-12-10", check=True).stdout
    assert "cycle time p50 / p90  — / —" in text


def test_no_imported_history_order_is_open_work(year) -> None:  # noqa: ANN001
    db, summary, *_ = year
    assert summary["by_state"] == {"shipped": summary["orders"]} and summary["queued_for_rep"] == 0
    out = json.loads(run_cli("--db", str(db), "kpi", "--json", check=True).stdout)["orders"]
    assert sum(out["queue_depth"].values()) == out["in_progress"] == out["on_hold"] == out["sla_breached_open"] == 0
    for state in ("queued", "on_hold"):
        listed = run_cli("--db", str(db), "order", "list", "--state", state, "--json", check=True).stdout
        assert json_lines(listed) == []
    shown = run_cli("--db", str(db), "order", "show", "SO-000001", check=True).stdout
    assert "shipped" in shown and "overdue" not in shown and "due was 2010-12-01" in shown
    c = connect_db(db)
    assert c.execute("SELECT COUNT(*) FROM orders WHERE shipped_at != received_at OR released_at != received_at"
                     " OR history != 1").fetchone()[0] == 0, "each sale shipped on its invoice date"
    assert c.execute("""SELECT COUNT(*) FROM return_lines rl JOIN orders o ON o.id = rl.order_id
                        WHERE o.state != 'shipped'""").fetchone()[0] == 0
    assert run_cli("--db", str(db), "check", timeout=300).returncode == 0
