"""What a user compares between a database and its `orderq copy`, for tests/copy and tests/pg."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import run_cli
from tests.helpers import wait_for
from tests.prove.torture import Pool, acknowledged

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



def copy_while_workers_commit(source: str | Path, dest: str | Path, folder: Path, seed: int) -> dict:
    """`orderq copy` while three worker processes (tests/prove/torture_worker.py) claim, tick, hold, release,
    ship and return on the source the whole time. Once the copy has taken its snapshot and begun its first
    table it is frozen (SIGSTOP) until the workers have committed 20 more commands, then it goes on.
    Returns the copy's --json summary."""
    pool = Pool(source, folder, nworkers=3, seed=seed)  # type: ignore[arg-type]
    for i in range(3):
        pool.start(i)
    try:
        wait_for(lambda: len(acknowledged(pool.logs)) >= 20, 60, "the workers to get going")
        copy = popen_copy(source, dest)
        assert copy.stderr is not None
        first = copy.stderr.readline()  # the snapshot is open and the first table is under way
        assert first.startswith("copy: "), first
        os.kill(copy.pid, signal.SIGSTOP)
        during = len(acknowledged(pool.logs))
        wait_for(lambda: len(acknowledged(pool.logs)) >= during + 20, 60, "the workers to commit during the copy")
        os.kill(copy.pid, signal.SIGCONT)
        out, err = copy.communicate(timeout=120)
        assert copy.returncode == 0, first + err
        pool.check_alive()
    finally:
        for i in range(3):
            pool.kill(i)
    return json.loads(out)


#: the event log's columns, as both backends store them
EVENT_COLUMNS = "id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash"


def event_rows(db: str | Path) -> list[tuple]:
    """The whole event log as plain tuples, from a SQLite file or a PostgreSQL URL (psycopg's own values:
    a copy is compared across backends as each stores it)."""
    if isinstance(db, str) and db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as pc:
            return [tuple(r) for r in pc.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY id")]
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def assert_copy_is_one_moment(live: list[tuple], copied: list[tuple], summary: dict, dest: str | Path) -> None:
    """After copy_while_workers_commit: the workers went on after the snapshot, the copy holds the log as of one
    moment, whole, and every table as of that same moment (`check`: states, claims, stock and money agree)."""
    assert len(live) > len(copied)
    assert copied == live[:len(copied)]
    assert summary["tables"]["events"] == len(copied)
    check_ok(dest)
