"""`orderq api` refuses what it cannot serve: one line, exit 2, before it listens."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("argv,says", [
    (["--now", "2026-11-26T09:00:00Z", "api", "--port", "0"], "real clock"),
    (["api", "--port", "70000"], "70000"),
    (["api", "--port", "0", "--host", "256.1.1.1"], "cannot listen"),
])
def test_api_refuses_in_one_line(demo_db: Path, argv: list[str], says: str) -> None:
    proc = run_cli("--db", str(demo_db), *argv, timeout=60)
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_api_refuses_a_missing_database(tmp_path: Path) -> None:
    proc = run_cli("--db", str(tmp_path / "none.db"), "api", "--port", "0", timeout=60)
    assert proc.returncode == 2 and "no database" in proc.stderr and not (tmp_path / "none.db").exists()
