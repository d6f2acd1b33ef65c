"""core stays pure and imports point one way: the import-linter contract plus a direct scan."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_CORE = {"db", "tui", "cli", "textual", "sqlite3", "sqlite_utils", "watchfiles", "asyncssh", "rich",
                     "os", "subprocess", "socket", "pathlib", "time"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_core_imports_no_io_sql_or_ui() -> None:
    offenders = {
        str(p.relative_to(REPO)): sorted(_imports(p) & FORBIDDEN_IN_CORE)
        for p in (REPO / "core").rglob("*.py")
        if _imports(p) & FORBIDDEN_IN_CORE
    }
    assert offenders == {}, f"core must stay pure: {offenders}"


def test_core_never_reads_the_clock() -> None:
    bad = [str(p.relative_to(REPO)) for p in (REPO / "core").rglob("*.py")
           if ".now(" in p.read_text(encoding="utf-8") or "utcnow" in p.read_text(encoding="utf-8")]
    assert bad == [], f"core reads the clock itself (pass it in): {bad}"


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(exe)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BROKEN" not in proc.stdout


def test_the_scan_would_catch_a_bad_import(tmp_path: Path) -> None:
    """The check itself is honest: a core module importing sqlite3 is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom textual.app import App\n")
    assert _imports(bad) & FORBIDDEN_IN_CORE == {"sqlite3", "textual"}
