"""`orderq copy` of the imported online-retail year, SQLite → SQLite and SQLite → PostgreSQL, each against
a bare copy of the same database measured in the same run:

- SQLite → SQLite against `VACUUM INTO` (SQLite rebuilding the whole file itself, rows and indexes);
- SQLite → PostgreSQL against a bare psycopg `COPY FROM STDIN` of the same rows, table by table in one
  transaction, into a database whose schema `orderq init` laid down beforehand (untimed: the bare copy
  makes no schema, orderq's copy includes it).

The source is the online-retail year imported with `--history` (≈ 607,000 rows over 25 tables). The
PostgreSQL server is the tests' throwaway one (tests/pg_server.py: initdb + pg_ctl in a temp dir, fsync
off as in the tests), so the figures compare the two copies, not this disk. Budget (proposed; SPEC §5
names none): each copy ≤ 3× its bare baseline.

    python -m bench.bench_copy            # the table rows as JSON
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_RATIO = 3.0


def _import_year(db: Path) -> None:
    from bench.bench_import import data_file
    from db.service import Desk
    from db.store import Store

    store = Store.open(db, create=True)
    try:
        Desk.operator(store, "bench").intake.import_file(data_file(), fmt="online-retail",
                                                         rejects=db.with_suffix(".rejects.csv"), history=True)
    finally:
        store.close()


def _orderq_copy(src: Path, dest: str, env: dict[str, str]) -> dict:
    exe = Path(sys.executable).parent / "orderq"
    p = subprocess.run([str(exe), "--db", str(src), "copy", dest, "--json"], capture_output=True, text=True,
                       cwd=REPO, env=env, timeout=1200)
    if p.returncode != 0:
        raise SystemExit(f"orderq copy failed: {p.stderr.strip().splitlines()[-1:]}")
    return json.loads(p.stdout)


def _vacuum_into(src: Path, dest: Path) -> float:
    conn = sqlite3.connect(src)
    t0 = time.perf_counter()
    conn.execute("VACUUM INTO ?", (str(dest),))
    took = time.perf_counter() - t0
    conn.close()
    return took


def _bare_pg_copy(src: Path, url: str) -> float:
    """The same rows, table by table, by COPY FROM STDIN in one transaction, parents first."""
    import psycopg

    from db.copy import copy_order
    from db.copy_sqlite import SqliteSource
    from db.pg.connection import connect
    from db.pg.copy import foreign_key_parents
    from db.pg.schema import ID_TABLES

    source = SqliteSource(src)
    cols = source.tables()
    source.close()
    probe = connect(url, id_tables=ID_TABLES)
    order = copy_order(foreign_key_parents(probe), list(cols))
    probe.close()
    lite = sqlite3.connect(src)
    with psycopg.connect(url) as pg:
        t0 = time.perf_counter()
        with pg.transaction():
            for t in order:
                names = ", ".join(f'"{c}"' for c in cols[t])
                with pg.cursor().copy(f'COPY "{t}" ({names}) FROM STDIN') as cp:
                    for row in lite.execute(f'SELECT {names} FROM "{t}"'):
                        cp.write_row(row)
        took = time.perf_counter() - t0
    lite.close()
    return took


def _row(what: str, rows: int, secs: float, base_what: str, base_secs: float) -> dict:
    ratio = secs / base_secs
    return {"what": what, "measured": f"{secs:.2f} s ({rows / secs:,.0f} rows/s)",
            "baseline": f"{base_secs:.2f} s ({rows / base_secs:,.0f} rows/s, {base_what})",
            "ratio": round(ratio, 2), "budget": f"≤ {BUDGET_RATIO:g}× bare (proposed)", "ok": ratio <= BUDGET_RATIO}


def run() -> list[dict]:
    import os

    from db.store import Store
    from tests.pg_server import PgServer

    with tempfile.TemporaryDirectory(prefix="orderq-bench-copy-") as tmp:
        src = Path(tmp) / "year.db"
        _import_year(src)
        server = PgServer.start()
        try:
            env = {**os.environ, "PYTHONPATH": str(REPO), **server.env()}
            os.environ.update(server.env())
            lite = _orderq_copy(src, str(Path(tmp) / "copy.db"), env)
            vacuum = _vacuum_into(src, Path(tmp) / "vacuum.db")
            pg = _orderq_copy(src, server.url(server.new_database()), env)
            bare_url = server.url(server.new_database())
            Store.open(bare_url, create=True).close()  # the schema, untimed
            bare = _bare_pg_copy(src, bare_url)
        finally:
            server.stop()
    n = lite["rows"]
    return [
        _row(f"copy SQLite → SQLite, online-retail year ({n:,} rows, {len(lite['tables'])} tables)", n,
             lite["seconds"], "VACUUM INTO", vacuum),
        _row(f"copy SQLite → PostgreSQL, online-retail year ({n:,} rows)", n, pg["seconds"],
             "bare psycopg COPY of the same rows", bare),
    ]


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r, ensure_ascii=False))
