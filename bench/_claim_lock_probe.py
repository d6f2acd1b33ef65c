"""Probes behind bench_claim's findings (not a bench row): where a claim's time goes in SQLite's lock.

    python -m bench._claim_lock_probe util             # 16 tight-loop processes: is the lock idle?
    python -m bench._claim_lock_probe inlock full,m910  # one process: CPU per claim, schema variants

`util`: every process times each claim's BEGIN IMMEDIATE returned .. COMMIT started .. COMMIT
returned (perf_counter, comparable across forked processes) and the thread CPU between; the
intervals of all processes merged say how much of the wall the lock was held, so how much it sat
idle while waiters slept. If it is rarely idle, the in-lock work is the lever, not the hand-off.

`inlock`: two desks on one copy claim in turn, so every BEGIN finds the other's commit (the page
cache dropped, as under contention); variants of the events schema claim in alternating batches of
100, so all see the same noise. Variants: `full` (ix_events_action_at over every event, as before
m910), `m910` (as migrated), `noseq` (m910 and events rebuilt without AUTOINCREMENT).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench.bench_claim as bc
import db.connection as dc
from bench.common import copy_db
from db.event_chain import GUARD_TRIGGERS
from db.service import Desk

_at: dict[str, float] = {}
_spans: list[tuple[float, float, float, float]] = []  # acquired, COMMIT started, COMMIT returned, thread CPU


def _timed_lock() -> None:
    """Wrap the write transaction's BEGIN and COMMIT (db.connection) to record `_spans`."""
    begin, commit = dc._begin_immediate, dc.commit

    def timed_begin(conn: sqlite3.Connection) -> None:
        begin(conn)
        _at["t"], _at["cpu"] = time.perf_counter(), time.thread_time()

    def timed_commit(conn: sqlite3.Connection, changes: int) -> None:
        t2 = time.perf_counter()
        commit(conn, changes)
        _spans.append((_at["t"], t2, time.perf_counter(), time.thread_time() - _at["cpu"]))

    dc._begin_immediate, dc.commit = timed_begin, timed_commit


def _service(db: str, user: str, ready, go, out) -> None:  # noqa: ANN001
    claim_next = Desk.open(db, user).orders.claim_next
    _timed_lock()
    stop = bc._gun(ready, go)
    while time.time() < stop and claim_next() is not None:
        pass
    out.put(_spans)


def _bare(db: str, user: str, ready, go, out) -> None:  # noqa: ANN001
    conn = sqlite3.connect(db, isolation_level=None, timeout=5)
    conn.execute("PRAGMA synchronous=NORMAL")
    stop = bc._gun(ready, go)
    while time.time() < stop:
        conn.execute("BEGIN IMMEDIATE")
        t1, cpu = time.perf_counter(), time.thread_time()
        got = conn.execute(bc.BARE_CLAIM, (user, time.time())).fetchone()
        t2 = time.perf_counter()
        conn.execute("COMMIT")
        _spans.append((t1, t2, time.perf_counter(), time.thread_time() - cpu))
        if got is None:
            break
    out.put(_spans)


def _covered(pairs: list[tuple[float, float]]) -> float:
    total, start, end = 0.0, None, None
    for a, b in sorted(pairs):
        if end is None or a > end:
            total += 0 if end is None else end - start
            start, end = a, b
        else:
            end = max(end, b)
    return total + (0 if end is None else end - start)


def util(db: Path, worker) -> str:  # noqa: ANN001
    ctx = mp.get_context("fork")
    out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    ps = [ctx.Process(target=worker, args=(str(db), bc.USERS[i % 3], ready, go, out)) for i in range(bc.PROCS)]
    for p in ps:
        p.start()
    for _ in ps:
        ready.get(timeout=120)
    go.set()
    spans = [s for _ in ps for s in out.get(timeout=bc.SECONDS + 120)]
    for p in ps:
        p.join()
    wall = max(s[2] for s in spans) - min(s[0] for s in spans)
    held = _covered([(s[0], s[2]) for s in spans]) / wall
    cpu = sum(s[3] for s in spans)
    return (f"{len(spans) / wall:7,.0f} claims/s  lock held {held:.0%} (idle >= {1 - held:.0%})  "
            f"CPU in lock {cpu / wall:.0%} of the wall, {cpu / len(spans) * 1e6:.0f} µs a claim")


def _no_autoincrement(db: Path) -> None:
    """Rebuild events without AUTOINCREMENT (ids, hashes, indexes and guard triggers kept)."""
    c = sqlite3.connect(db, isolation_level=None)
    cols = "id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash"
    c.executescript(f"""BEGIN IMMEDIATE;
        CREATE TABLE events_new (id INTEGER PRIMARY KEY, at REAL NOT NULL, actor TEXT NOT NULL, entity TEXT NOT NULL,
            entity_id INTEGER, ref TEXT, action TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{{}}', prev_hash TEXT, hash TEXT);
        INSERT INTO events_new ({cols}) SELECT {cols} FROM events ORDER BY id;
        DROP TABLE events; ALTER TABLE events_new RENAME TO events;
        CREATE INDEX ix_events_entity ON events(entity, entity_id, id);
        CREATE INDEX ix_events_action_at ON events(action, at) WHERE action <> 'claim';
        {';'.join(GUARD_TRIGGERS.values())}; COMMIT;""")
    c.close()


def _full_action_index(db: Path) -> None:
    c = sqlite3.connect(db, isolation_level=None)
    c.executescript("DROP INDEX ix_events_action_at; CREATE INDEX ix_events_action_at ON events(action, at);")
    c.close()


VARIANTS = {"full": _full_action_index, "m910": lambda db: None, "noseq": _no_autoincrement}


def inlock(src: Path, folder: Path, names: list[str], n: int) -> None:
    _timed_lock()
    desks = {}
    for name in names:
        db = copy_db(src, folder / f"{name}.db")
        VARIANTS[name](db)
        desks[name] = [Desk.open(str(db), u).orders.claim_next for u in ("alice", "bob")]
    cpu: dict[str, list[float]] = {name: [] for name in names}
    whole: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(n // 100):
        for name in names:
            del _spans[:]
            for _ in range(50):
                for claim_next in desks[name]:
                    t = time.thread_time()
                    claim_next()
                    whole[name].append(time.thread_time() - t)
            cpu[name] += [s[3] for s in _spans]
    base = names[0]
    for name in names:
        lock, claim = statistics.median(cpu[name]), statistics.median(whole[name])
        print(f"{name:6s} in the lock {lock * 1e6:4.0f} µs (x{lock / statistics.median(cpu[base]):.3f})  whole "
              f"{claim * 1e6:4.0f} µs (x{claim / statistics.median(whole[base]):.3f})  load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="orderq-claim-probe-") as tmp:
        folder = Path(tmp)
        src = bc.build(folder)
        if sys.argv[1] == "util":
            for worker in (_bare, _service):
                print(f"{worker.__name__[1:]:8s}", util(copy_db(src, folder / f"{worker.__name__}.db"), worker))
        else:
            inlock(src, folder, sys.argv[2].split(","), int(os.environ.get("N", "3000")))
