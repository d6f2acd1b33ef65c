"""Parse speed of a 10,000-message X12 850 interchange built from the real samples
(bench/edi_interchange.py): tokenizer + envelope checks + 850 mapping, and the 997 for it.
No baseline exists for X12 in Python to compare with, so the row's ratio is against a bare
`str.split` of the same text into segments and elements (the floor any reader pays).

    python -m bench.bench_edi
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

from bench.common import row
from bench.edi_interchange import build_x12_interchange
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_997

REPO = Path(__file__).resolve().parent.parent
MESSAGES = 10_000
BUDGET_MSGS_PER_S = 2_000


def x12_dir() -> Path:
    env = os.environ.get("ORDERQ_DATA")
    for base in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]:
        if (base / "edi" / "x12").is_dir():
            return base / "edi" / "x12"
    raise SystemExit("edi/x12 samples not found: set ORDERQ_DATA")


def run() -> list[dict]:
    text = build_x12_interchange(x12_dir(), MESSAGES)
    t0 = time.perf_counter()
    bare = [seg.split("*") for seg in text.split("~")]
    t_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    ic = parse_x12(text)[0]
    outcomes = read_x12_orders(ic)
    t_parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_997(ic, outcomes, Controls(1, 1), datetime(2026, 12, 1, 12, 0))
    t_997 = time.perf_counter() - t0
    ok = sum(1 for o in outcomes if o.status != "R")
    rate = MESSAGES / t_parse
    return [
        row(f"edi: read a {MESSAGES:,}-message X12 850 interchange ({len(text) / 1e6:.1f} MB, {ok:,} orders)",
            f"{rate:,.0f} msgs/s ({t_parse:.2f} s)", f"bare split {t_bare:.2f} s ({len(bare):,} segments)",
            t_parse / t_bare if t_bare else float("nan"), f">= {BUDGET_MSGS_PER_S:,} msgs/s",
            rate >= BUDGET_MSGS_PER_S and ok == MESSAGES),
        row(f"edi: write the 997 for it", f"{t_997:.2f} s", "-", float("nan"), "-", True),
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
