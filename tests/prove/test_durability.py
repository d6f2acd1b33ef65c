"""Durability: `orderq backup` while other processes write, and the copy passes `orderq check`."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.prove.torture import Pool, acknowledged


def _acks(pool: Pool) -> int:
    return len(acknowledged(pool.logs))


@pytest.mark.sqlite_only("`orderq backup` copies a SQLite file while writers write (PostgreSQL: pg_dump)")
def test_backup_while_writers_write_passes_check(tmp_path: Path, demo_db: Path) -> None:
    db = tmp_path / "live.db"
    shutil.copy(demo_db, db)
    # make it bigger than one backup step (4096 pages): a backup that restarts whenever another
    # process writes would never finish
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE IF NOT EXISTS ballast (b BLOB)")
    conn.executemany("INSERT INTO ballast VALUES (randomblob(4000))", [()] * 4500)
    conn.commit()
    conn.close()
    pool = Pool(db, tmp_path, nworkers=3, seed=11)
    for i in range(3):
        pool.start(i)
    try:
        deadline = time.monotonic() + 60
        while _acks(pool) < 50:
            pool.check_alive()
            assert time.monotonic() < deadline, "the writers got nothing done"
            time.sleep(0.05)
        copies = []
        for n in range(2):
            before = _acks(pool)
            dest = tmp_path / f"backup{n}.db"
            t0 = time.monotonic()
            p = run_cli("--db", str(db), "backup", str(dest), "--json", timeout=120)
            print(f"backup {n}: {time.monotonic() - t0:.2f} s")
            assert p.returncode == 0, p.stderr
            assert json.loads(p.stdout)["ok"]
            pool.check_alive()
            assert _acks(pool) > before, "the writers were blocked while the backup ran"
            copies.append(dest)
    finally:
        for i in range(3):
            pool.kill(i)
    for dest in copies:
        check = run_cli("--db", str(dest), "check", "--json")
        assert check.returncode == 0, check.stdout
        assert json.loads(check.stdout)["ok"]
    # the copies are snapshots: each is a consistent earlier state of the live database
    live = sqlite3.connect(db)
    last_live = live.execute("SELECT MAX(id) FROM events").fetchone()[0]
    live.close()
    lasts = [sqlite3.connect(d).execute("SELECT MAX(id) FROM events").fetchone()[0] for d in copies]
    assert lasts == sorted(lasts) and lasts[-1] <= last_live


def test_backup_refuses_an_existing_file_and_writes_nothing(tmp_path: Path, demo_db: Path) -> None:
    dest = tmp_path / "exists.db"
    dest.write_bytes(b"keep me")
    p = run_cli("--db", str(demo_db), "backup", str(dest))
    assert p.returncode == 2 and "exists" in p.stderr
    assert dest.read_bytes() == b"keep me"
