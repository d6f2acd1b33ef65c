"""Queue screen first paint and memory with 100,000 OPEN orders, against a bare Textual app.

Each start is a fresh process on its own pseudo-terminal (120×35), bare and queue interleaved;
"first paint" is the same for both: spawn → the first screen's on_mount + call_after_refresh.
Budget (SPEC §5): median first paint ≤ 1.5 × bare, RSS ≤ bare + 30 MB.
Also shown: when start-up has finished (the rules validated with pydantic, just after the paint),
and, in-process, what a page of the queue costs at the bottom of the 100,000 against the top.

The database is built once and cached: `orderq demo --orders 100000`, then every order turned
into open work (queued / in progress / on hold) with plain SQL in this setup.
Run alone: `python -m bench.bench_queue_paint`.
"""
from __future__ import annotations

import fcntl
import json
import os
import pty
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ORDERS = 100_000
RUNS = int(os.environ.get("ORDERQ_BENCH_RUNS", "5"))
CACHE = Path(os.environ.get("ORDERQ_BENCH_CACHE", Path(tempfile.gettempdir()) / "orderq-bench"))
OPEN = ("queued", "in_progress", "on_hold")


def _orderq(*args: str) -> None:
    exe = Path(sys.executable).parent / "orderq"
    subprocess.run([str(exe), *args], check=True, capture_output=True, cwd=REPO, timeout=600)


def build_db() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"queue-open-{ORDERS}.db"
    if not db.exists():
        tmp = CACHE / "building.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        _orderq("--db", str(tmp), "demo", "--orders", str(ORDERS), "--seed", "7")
        c = sqlite3.connect(tmp)
        c.execute("UPDATE orders SET state = 'queued', released_at = NULL, released_by = NULL, shipped_at = NULL,"
                  " closed_at = NULL, cancelled_at = NULL, cancel_reason = NULL, straight_through = 0"
                  f" WHERE state NOT IN {OPEN}")
        c.commit()
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        tmp.rename(db)
    _orderq("--db", str(db), "init")  # migrate a cached file built by an older schema
    c = sqlite3.connect(db)
    n = c.execute(f"SELECT COUNT(*) FROM orders WHERE state IN {OPEN}").fetchone()[0]
    c.close()
    assert n >= ORDERS, f"{db}: only {n} open orders"
    return db


def small_db() -> Path:
    """The same screen on a 300-order desk: windowing means 100,000 open as fast as this."""
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / "queue-300.db"
    if not db.exists():
        _orderq("--db", str(db), "demo", "--orders", "300", "--seed", "7")
    _orderq("--db", str(db), "init")
    return db


def one_start(mode: str, db: Path | None) -> dict:
    out = Path(tempfile.mktemp(prefix=f"paint-{mode}-", suffix=".json"))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "SSH_CONNECTION", "SSH_CLIENT",
                                                               "SSH_TTY", "NO_COLOR", "ORDERQ_KEYS")}
    env["TERM"] = "xterm-256color"
    args = [sys.executable, "-m", "bench._paint_child", mode, str(out)] + ([str(db)] if db else [])

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    t0 = time.time()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env, start_new_session=True)
    os.close(slave)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    data = json.loads(out.read_text())
    out.unlink()
    return {"paint_s": data["t"] - t0, "cpu_s": data["cpu"], "rss_mb": data["rss_kb"] / 1024,
            "ready_s": data["ready_t"] - t0}


def compile_sources() -> None:
    """Byte-compile orderq's packages, as installing it does (Textual's are, in site-packages).
    Otherwise, with PYTHONDONTWRITEBYTECODE set, every start would compile orderq from source."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "core", "db", "tui", "cli", "themes"],
                   check=True, capture_output=True, cwd=REPO, timeout=120)


def scrolling(db: Path) -> list[dict]:
    """Page reads as the queue screen makes them (QueueSource), deep in 100,000 open orders against
    the same reads at the top: End then PageUp ×10 (keyset, from the bottom) vs PageDown ×10 from
    the top, and a jump to the middle with no neighbour cached."""
    from db.orders_read import QueueFilter
    from db.service import Desk
    from tui.screens.queue import QueueSource

    desk = Desk.open(db, "alice")
    try:
        def reads(rows: list[int], fresh: bool) -> list[float]:
            src = QueueSource(desk, QueueFilter(states=OPEN))
            src.reload()
            out = []
            for i in rows:
                if fresh:  # a new screen's cache: nothing next to the page
                    src = QueueSource(desk, QueueFilter(states=OPEN))
                    src.reload()
                t0 = time.perf_counter()
                src.row(i if i >= 0 else src.total + i)
                out.append(time.perf_counter() - t0)
            return out

        page = QueueSource.PAGE
        top, deep, jump = [], [], []
        for _ in range(RUNS):
            top += reads([k * page for k in range(11)], fresh=False)[1:]
            deep += reads([-1 - k * page for k in range(11)], fresh=False)[1:]
            jump += reads([ORDERS // 2 + k * 997 for k in range(5)], fresh=True)
    finally:
        desk.store.close()
    t, d, j = (statistics.median(x) * 1000 for x in (top, deep, jump))
    return [
        {"what": "queue scrolling at the bottom of 100,000 open orders (End, PageUp ×10): per page",
         "measured": f"{d:.2f} ms", "baseline": f"{t:.2f} ms (PageDown ×10 from the top)", "ratio": round(d / t, 2),
         "budget": "info (≈ 1×)", "ok": True},
        {"what": "queue jump to the middle (no page cached): per page", "measured": f"{j:.1f} ms",
         "baseline": f"{t:.2f} ms (a page at the top)", "ratio": round(j / t, 1), "budget": "info", "ok": True},
    ]


def run() -> list[dict]:
    db = build_db()
    small = small_db()
    compile_sources()
    one_start("bare", None)  # warm the page cache for both
    one_start("queue", db)
    bare, queue, imports, queue_small = [], [], [], []
    for _ in range(RUNS):
        bare.append(one_start("bare", None))
        queue.append(one_start("queue", db))
        imports.append(one_start("bare+imports", None))
        queue_small.append(one_start("queue", small))
    b_t = statistics.median(r["paint_s"] for r in bare)
    q_t = statistics.median(r["paint_s"] for r in queue)
    b_m = statistics.median(r["rss_mb"] for r in bare)
    q_m = statistics.median(r["rss_mb"] for r in queue)
    b_c = statistics.median(r["cpu_s"] for r in bare)
    q_c = statistics.median(r["cpu_s"] for r in queue)
    ratio = q_t / b_t
    i_t = statistics.median(r["paint_s"] for r in imports)
    i_c = statistics.median(r["cpu_s"] for r in imports)
    s_t = statistics.median(r["paint_s"] for r in queue_small)
    r_t = statistics.median(r["ready_s"] for r in queue)
    s_c = statistics.median(r["cpu_s"] for r in queue_small)
    return [
        {"what": f"queue first paint, {ORDERS:,} open orders (median of {RUNS})", "measured": f"{q_t * 1000:.0f} ms",
         "baseline": f"{b_t * 1000:.0f} ms bare Textual", "ratio": round(ratio, 2), "budget": "≤ 1.5× bare",
         "ok": ratio <= 1.5},
        {"what": "queue CPU time to first paint (load-independent view)", "measured": f"{q_c * 1000:.0f} ms",
         "baseline": f"{b_c * 1000:.0f} ms bare Textual", "ratio": round(q_c / b_c, 2), "budget": "info (≤ 1.5×)",
         "ok": q_c / b_c <= 1.5},
        {"what": "queue start-up finished: rules validated (pydantic), change feed on",
         "measured": f"{r_t * 1000:.0f} ms", "baseline": f"{b_t * 1000:.0f} ms bare Textual",
         "ratio": round(r_t / b_t, 2), "budget": "info", "ok": True},
        {"what": "queue first paint vs bare Textual after orderq's own imports (the screen's cost)",
         "measured": f"{q_t * 1000:.0f} ms ({q_c * 1000:.0f} ms CPU)",
         "baseline": f"{i_t * 1000:.0f} ms bare+imports ({i_c * 1000:.0f} ms CPU)",
         "ratio": round(q_t / i_t, 2), "budget": "info (≤ 1.5×)", "ok": q_t / i_t <= 1.5},
        {"what": "queue CPU to first paint, 100,000 vs 300 open orders (windowing)",
         "measured": f"{q_c * 1000:.0f} ms CPU ({q_t * 1000:.0f} ms wall)",
         "baseline": f"{s_c * 1000:.0f} ms CPU at 300 ({s_t * 1000:.0f} ms wall)", "ratio": round(q_c / s_c, 2),
         "budget": "info (≈ 1×)", "ok": q_c / s_c <= 1.2},
        {"what": "queue RSS at first paint", "measured": f"{q_m:.1f} MB", "baseline": f"{b_m:.1f} MB bare Textual",
         "ratio": round(q_m / b_m, 2), "budget": "≤ bare + 30 MB", "ok": q_m <= b_m + 30},
        *scrolling(db),
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row, ensure_ascii=False))
