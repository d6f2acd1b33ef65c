"""What a user sees: a progress bar on a terminal, nothing but the summary otherwise; scattered invoices."""
from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, connect_db, json_lines, run_cli
from tests.intake.conftest import write_slice
from tests.intake.expected import cents


def test_quiet_without_a_terminal_and_a_plain_summary(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    file = write_slice(tmp_path / "few.csv", slices.head[:20])
    proc = run_cli("--db", str(db_path), "import", str(file), "--rejects", str(tmp_path / "r.csv"), check=True)
    assert proc.stderr == "" and "\x1b[" not in proc.stdout
    assert "rows read" in proc.stdout and "every row accounted for" in proc.stdout


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` not installed")
def test_progress_bar_on_a_terminal(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    file = write_slice(tmp_path / "few.csv", slices.head[:20])
    exe = Path(sys.executable).parent / "orderq"
    cmd = f"{exe} --db {db_path} import {file} --rejects {tmp_path / 'r.csv'}"
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0
    assert "importing" in proc.stdout and "\x1b[" in proc.stdout, "a rich progress bar was drawn"
    assert "every row accounted for" in proc.stdout


def test_an_invoice_whose_rows_are_scattered_is_one_whole_order(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """Rows of invoice A come before and after invoice B (and its last row after everything): A is still one
    order with every line and its exact total, in file order, and nothing is rejected."""
    a, b, c = slices.head[0], slices.head[1], slices.head[2]
    file = write_slice(tmp_path / "split.csv", [a[:3], b, a[3:-1], c, a[-1:]])
    rej = tmp_path / "split.rejects.csv"
    s = json_lines(run_cli("--db", str(db_path), "import", str(file), "--json", "--rejects", str(rej),
                           check=True).stdout)[-1]
    assert s["conserved"] and s["rejects"] == 0 and s["orders"] == 3 and not rej.exists()
    conn = connect_db(db_path)
    for inv in (a, b, c):
        oid, total = conn.execute("SELECT id, total_cents FROM orders WHERE source_ref = ?", (inv[0][0],)).fetchone()
        skus = [r[0] for r in conn.execute("SELECT sku FROM order_lines WHERE order_id = ? ORDER BY line_no", (oid,))]
        assert skus == [r[1] for r in inv]
        assert total == sum(cents(int(r[3]) * Decimal(r[5])) for r in inv)
