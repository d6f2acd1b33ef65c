"""What a user compares between a database and its `orderq copy`, for tests/copy and tests/pg."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import run_cli

#: the moment both sides are read at (now, to the second, fixed once), so the KPIs (waits, at-risk) compare
NOW = datetime.now(UTC).replace(microsecond=0)
#: what a user compares: every order, the whole audit log, and the KPIs over the last year
VIEWS = (("order", "list", "--json"), ("events", "--json"),
         ("kpi", "--json", "--since", (NOW - timedelta(days=365)).isoformat()))


def views(db: str | Path) -> dict[str, str]:
    out = {}
    for args in VIEWS:
        p = run_cli("--db", str(db), "--now", NOW.isoformat(), *args)
        assert p.returncode == 0, f"{args}: {p.stderr}"
        out[" ".join(args)] = p.stdout
    return out


def assert_same_views(source: str | Path, dest: str | Path) -> None:
    a, b = views(source), views(dest)
    for k in a:
        assert a[k] == b[k], f"`{k}` differs between {source} and {dest}"
    assert a["order list --json"].count("\n") > 0  # something was compared


def check_ok(db: str | Path) -> None:
    p = run_cli("--db", str(db), "check")
    assert p.returncode == 0, p.stdout + p.stderr


def copy_cli(source: str | Path, dest: str | Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_cli("--db", str(source), "copy", str(dest), *extra, timeout=timeout)


def popen_copy(source: str | Path, dest: str | Path) -> subprocess.Popen[str]:
    """`orderq copy` in its own process, stderr (the progress) piped for the test to read as it comes."""
    exe = Path(sys.executable).parent / "orderq"
    return subprocess.Popen([str(exe), "--db", str(source), "copy", str(dest), "--json"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

