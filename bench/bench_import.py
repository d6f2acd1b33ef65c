"""Import of the full online-retail year against a bare sqlite-utils `insert_all` of the same raw rows.

Both run in the same invocation, each in a fresh child process on a fresh database with the same
pragmas (WAL, synchronous=NORMAL), so the ratio compares like with like; peak RSS of each child
comes from wait4(). Budget (SPEC §5): import ≤ 3 × the bare insert. Memory must stay bounded
(the file is streamed): ≤ 160 MB peak RSS.

    python -m bench.bench_import            # the table rows as JSON
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_RATIO = 3.0
BUDGET_RSS_MB = 160


def data_file() -> Path:
    from bench.common import shared_data

    return shared_data("online-retail/online_retail_full.csv.gz")


def _child_bare(src: Path, db: Path) -> dict:
    import csv
    import gzip
    import io

    from sqlite_utils import Database

    t0 = time.perf_counter()
    d = Database(db)
    d.execute("PRAGMA journal_mode=WAL")
    d.execute("PRAGMA synchronous=NORMAL")
    with io.TextIOWrapper(gzip.open(src, "rb"), encoding="utf-8", newline="") as fh:
        d["raw"].insert_all(csv.DictReader(fh), batch_size=1000)
    return {"seconds": time.perf_counter() - t0, "rows": d["raw"].count}


def _child_import(src: Path, db: Path) -> dict:
    from db.service import Desk
    from db.store import Store

    store = Store.open(db, create=True)
    t0 = time.perf_counter()
    s = Desk.operator(store, "bench").intake.import_file(src, fmt="online-retail", rejects=db.with_suffix(".rejects.csv"),
                                                        history=True)  # the file is a year of completed sales
    secs = time.perf_counter() - t0
    store.close()
    return {"seconds": secs, "rows": s.rows_read, "summary": s.as_json()}


def _run_child(kind: str, src: Path, db: Path) -> tuple[dict, float]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.bench_import", "--child", kind, str(src), str(db)],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench child {kind} failed")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024  # MB


def run() -> list[dict]:
    src = data_file()
    with tempfile.TemporaryDirectory(prefix="orderq-bench-import-") as tmp:
        bare, bare_rss = _run_child("bare", src, Path(tmp) / "bare.db")
        imp, imp_rss = _run_child("import", src, Path(tmp) / "import.db")
    ratio = imp["seconds"] / bare["seconds"]
    s = imp["summary"]
    return [
        {"what": f"import online-retail, {imp['rows']:,} lines → {s['orders']:,} orders, {s['returns']:,} returns",
         "measured": f"{imp['seconds']:.2f} s", "baseline": f"{bare['seconds']:.2f} s (sqlite-utils insert_all, WAL)",
         "ratio": round(ratio, 2), "budget": f"≤ {BUDGET_RATIO:g}× bare insert_all", "ok": ratio <= BUDGET_RATIO},
        {"what": "import peak RSS (streamed)", "measured": f"{imp_rss:.0f} MB",
         "baseline": f"{bare_rss:.0f} MB (insert_all child)", "ratio": round(imp_rss / bare_rss, 2),
         "budget": f"≤ {BUDGET_RSS_MB} MB", "ok": imp_rss <= BUDGET_RSS_MB},
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, src, db = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        out = _child_bare(src, db) if kind == "bare" else _child_import(src, db)
        print(json.dumps(out))
    else:
        for row in run():
            print(json.dumps(row, ensure_ascii=False))
