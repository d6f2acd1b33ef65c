"""Parse speed of a 10,000-message X12 850 interchange built from the real samples
(bench/edi_interchange.py): tokenizer + envelope checks + 850 mapping, and the 997 for it.
No X12 reader on PyPI is a fair baseline, so the ratio is against a bare `str.split` of the same
text into segments and elements (the floor any reader pays), in the same run. Budget (ours, not
SPEC §5): reading ≤ 15 x that split, every message an order.

    python -m bench.bench_edi
"""
from __future__ import annotations

import json
import time
from datetime import datetime

from bench.common import row, shared_data
from bench.edi_interchange import build_x12_interchange
from core.edi.purchase_order import gc_paused
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_997

MESSAGES = 10_000
BUDGET_RATIO = 15.0




def run() -> list[dict]:
    text = build_x12_interchange(shared_data("edi/x12"), MESSAGES)
    t0 = time.perf_counter()
    with gc_paused():                                   # the same footing as the reader
        bare = [seg.split("*") for seg in text.split("~")]
    t_bare = time.perf_counter() - t0
    segments = len(bare)
    del bare
    t0, c0 = time.perf_counter(), time.process_time()
    ic = parse_x12(text)[0]
    outcomes = read_x12_orders(ic)
    t_parse, c_parse = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    write_997(ic, outcomes, Controls(1, 1), datetime(2026, 12, 1, 12, 0))
    t_997 = time.perf_counter() - t0
    ok = sum(1 for o in outcomes if o.status != "R")
    rate = MESSAGES / t_parse
    ratio = t_parse / t_bare if t_bare else float("nan")
    return [
        row(f"edi: read a {MESSAGES:,}-message X12 850 interchange ({len(text) / 1e6:.1f} MB, {ok:,} orders)",
            f"{rate:,.0f} msgs/s ({t_parse:.2f} s; CPU {c_parse:.2f} s = {MESSAGES / c_parse:,.0f} msgs/s)", f"bare split {t_bare:.2f} s ({segments:,} segments)",
            ratio, f"<= {BUDGET_RATIO:.0f} x the bare split", ratio <= BUDGET_RATIO and ok == MESSAGES),
        row(f"edi: write the 997 for it", f"{t_997:.2f} s", "-", float("nan"), "-", True),
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
