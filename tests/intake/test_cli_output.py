"""What a user sees: a progress bar on a terminal, nothing but the summary otherwise; split invoices."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, json_lines, run_cli
from tests.intake.conftest import write_slice


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


def test_an_invoice_that_reappears_later_is_rejected_as_split(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    a, b = slices.head[0], slices.head[1]
    file = write_slice(tmp_path / "split.csv", [a[:3], b, a[3:]])
    rej = tmp_path / "split.rejects.csv"
    s = json_lines(run_cli("--db", str(db_path), "import", str(file), "--json", "--rejects", str(rej),
                           check=True).stdout)[-1]
    assert s["conserved"] and s["rejects_by_reason"] == {"split-invoice": len(a) - 3}
    with open(rej, newline="") as fh:
        rows = [int(r["row"]) for r in csv.DictReader(fh)]
    assert rows == list(range(2 + 3 + len(b), 2 + len(a) + len(b)))
