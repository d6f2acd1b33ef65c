"""SIGKILL in the middle of an import: whole invoices or nothing, `orderq check` passes, a re-run completes."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, connect_db, json_lines, run_cli
from tests.intake.expected import expect


def _orders(db: Path) -> int:
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_import_leaves_no_partial_invoice(slices, tmp_path: Path) -> None:  # noqa: ANN001
    file = slices.file("big.csv", slices.big)
    exp = expect(slices.big)
    db = tmp_path / "crash.db"
    run_cli("--db", str(db), "init", check=True)
    exe = Path(sys.executable).parent / "orderq"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
    proc = subprocess.Popen([str(exe), "--db", str(db), "import", str(file), "--chunk", "20", "--json", "--history",
                             "--rejects", str(tmp_path / "r.csv")], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _orders(db) < 200 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed; use a bigger slice"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    proc.stderr.close()

    got = _orders(db)
    assert 200 <= got < len(exp.orders), "killed part-way"
    check = run_cli("--db", str(db), "check", "--json")
    assert check.returncode == 0, check.stdout
    c = connect_db(db)
    for ref, n_lines, n_charges, total in c.execute(
            """SELECT o.source_ref, (SELECT COUNT(*) FROM order_lines WHERE order_id = o.id),
                      (SELECT COUNT(*) FROM order_charges WHERE order_id = o.id), o.total_cents FROM orders o"""):
        goods, charges, want_total = exp.orders[ref]
        assert (n_lines, n_charges, total) == (len(goods), len(charges), want_total), f"{ref} is partial"

    # the committed chunks are the checkpoint: a re-run skips them and imports the rest
    again = run_cli("--db", str(db), "import", str(file), "--json", "--history", "--rejects", str(tmp_path / "r2.csv"), check=True)
    s = json_lines(again.stdout)[-1]
    assert s["conserved"] and s["already_imported_orders"] == got
    assert c.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == len(exp.orders)
    assert run_cli("--db", str(db), "check").returncode == 0

    # and the resumed database says what one uninterrupted import says
    clean = tmp_path / "clean.db"
    run_cli("--db", str(clean), "init", check=True)
    run_cli("--db", str(clean), "import", str(file), "--history", "--rejects", str(tmp_path / "r3.csv"), check=True)
    sql = ("SELECT o.source_ref, l.line_no, l.sku, l.qty, l.qty_returned, o.state, o.total_cents FROM order_lines l "
           "JOIN orders o ON o.id = l.order_id ORDER BY 1, 2")
    returns = "SELECT source_ref, refund_cents, (SELECT COUNT(*) FROM return_lines WHERE return_id = r.id) FROM returns r ORDER BY 1"
    d = connect_db(clean)
    assert c.execute(sql).fetchall() == d.execute(sql).fetchall()
    assert c.execute(returns).fetchall() == d.execute(returns).fetchall()
    assert c.execute("SELECT COUNT(*) FROM returns").fetchone()[0] > 0, "cancellations were matched on resume too"
