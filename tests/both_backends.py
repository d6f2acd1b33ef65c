"""`make test-both`: the whole suite on both backends (issue 18 §8), as two pytest runs of the same tests,
one per backend (tests/conftest.py's --backend switch), started at the same time.

Why at once rather than one after the other: a pass alone leaves part of the 2 cores idle while its
tests wait (tmux screens, ssh sessions, polls with a deadline, `orderq` children starting), and the
other pass fills that time. Why two runs rather than one run with a backend parameter: the session
templates of every test area (tests/*/conftest.py) are made once per run; parametrising them would
rebuild them at each switch of backend on a worker.

The SQLite pass prints as it goes; the PostgreSQL pass's output is kept in a file and printed once
it ends, so neither garbles the other. The exit status is the worse of the two.

    python -m tests.both_backends [--serial] [pytest arguments…]

`--serial` runs the passes one after the other (for comparison, or a busier machine)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pytest(backend: str, args: list[str], out: int | None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "pytest", f"--backend={backend}", *args]
    return subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT if out is not None else None)


def main(argv: list[str]) -> int:
    serial = "--serial" in argv
    args = [a for a in argv if a != "--serial"] or ["-q", "-n", "2"]
    started = time.monotonic()
    with tempfile.NamedTemporaryFile(prefix="orderq-test-postgresql-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        if serial:
            sqlite_rc = _pytest("sqlite", args, None).wait()
            pg = _pytest("postgresql", args, log.fileno())
        else:
            pg = _pytest("postgresql", args, log.fileno())
            sqlite_rc = _pytest("sqlite", args, None).wait()
        sqlite_s = time.monotonic() - started
        pg_rc = pg.wait()
    total = time.monotonic() - started
    print(f"\n==== the PostgreSQL pass (its output, kept in {log_path}) ====", flush=True)
    sys.stdout.write(log_path.read_text(encoding="utf-8", errors="replace"))
    print(f"\n==== both backends: sqlite exit {sqlite_rc} (ended at {sqlite_s:.0f} s), postgresql exit {pg_rc};"
          f" {total:.0f} s in all ({'one after the other' if serial else 'at once'});"
          f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ====", flush=True)
    if pg_rc == 0:
        log_path.unlink()
    return max(sqlite_rc, pg_rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
