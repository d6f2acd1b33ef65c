"""bench_api reads wrk's report: a misread figure or a missed refusal would print a PASS that is not one.
The samples are wrk 4.1's own output (--latency, the Lua script's @@WRK line); no wrk needed here."""
from __future__ import annotations

import pytest

from bench.wrk import parse

REFUSED = """Running 1s test @ http://127.0.0.1:18777/x
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.13ms    1.78ms  12.75ms   86.02%
    Req/Sec     0.98k   161.24     1.30k    80.00%
  Latency Distribution
     50%  850.00us
     75%    2.51ms
     90%    4.54ms
     99%    1.20s
  979 requests in 1.00s, 530.80KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 979
Requests/sec:    977.29
Transfer/sec:    529.87KB
@@WRK non201=979 first=501 <!DOCTYPE HTML>
"""


def test_latencies_rate_and_refusals_are_read_in_their_units() -> None:
    r = parse(REFUSED)
    assert (r.p50, r.p75, r.p99) == (pytest.approx(850e-6), pytest.approx(2.51e-3), pytest.approx(1.2))
    assert (r.requests, r.rate) == (979, 977.29)
    assert (r.non_2xx, r.non_201, r.socket_errors) == (979, 979, 3)
    assert r.first_bad.startswith("501 ")


def test_a_clean_run_counts_no_refusal() -> None:
    clean = REFUSED.replace("  Socket errors: connect 0, read 2, write 0, timeout 1\n", "").replace(
        "  Non-2xx or 3xx responses: 979\n", "").replace("non201=979 first=501 <!DOCTYPE HTML>", "non201=0 first=")
    r = parse(clean)
    assert (r.non_2xx, r.non_201, r.socket_errors, r.first_bad) == (0, 0, 0, "")


def test_a_report_without_the_latency_distribution_is_an_error_not_a_figure() -> None:
    with pytest.raises(RuntimeError, match="latency distribution"):
        parse(REFUSED.replace("     99%    1.20s\n", ""))
