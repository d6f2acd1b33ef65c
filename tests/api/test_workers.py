"""`orderq api --workers N`: several server processes on the one socket the parent binds.

Real processes throughout: the requests' log lines name the pid that served them, the parent's
SIGTERM must stop every worker and free the port, and a database the workers cannot serve is still
refused in one line with exit 2."""
from __future__ import annotations

import os
import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.api.conftest import SKU, add_partner, clean_customer, query, start_server, stop_server
from tests.conftest import run_cli
from tests.helpers import wait_for


def _pids_served(log: Path) -> set[int]:
    return {int(p) for p in re.findall(r"orderq\.api partner=\S+ method=\S+ path=\S+ status=\d+ duration_ms=\S+ "
                                       r"pid=(\d+)$", log.read_text(), re.M)}


def _children(pid: int) -> set[int]:
    """The worker processes: the parent's children that serve (multiprocessing's own tracker aside)."""
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(k) for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()}


def _port_free(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    s = socket.socket()
    try:
        s.bind((host, int(port)))  # no SO_REUSEADDR: refused while any process still holds the listener
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_two_workers_both_serve_orders_and_sigterm_stops_them_all(demo_db: Path, tmp_path: Path) -> None:
    key = add_partner(demo_db, "shop")
    cust = clean_customer(demo_db)
    log = tmp_path / "api.log"
    proc, url = start_server(demo_db, log, "--workers", "2")
    try:
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        sent = [0]

        def post(_: int) -> int:
            with httpx.Client(base_url=url, timeout=60) as c:
                sent[0] += 1
                return c.post("/v1/orders", headers={"Authorization": f"Bearer {key}"},
                              json={"customer": cust, "lines": [{"sku": SKU, "qty": 1}],
                                    "external_ref": f"W-{time.monotonic_ns()}"}).status_code

        def both_served() -> bool:  # bursts of 16 clients at once, until each worker has answered some
            with ThreadPoolExecutor(16) as pool:
                assert set(pool.map(post, range(16))) == {201}
            return _pids_served(log) == workers

        wait_for(both_served, timeout=120, what="both workers to answer", step=0)
        assert query(demo_db, "SELECT COUNT(*) FROM orders WHERE partner_id IS NOT NULL")[0][0] == sent[0]
        assert log.read_text().count("delivering as ") == 1  # one outbound delivery worker per `orderq api`
    finally:
        proc.terminate()
        rc = proc.wait(timeout=60)
    assert rc == 0 and "Traceback" not in log.read_text(), log.read_text()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert _port_free(url)


def test_workers_refuse_a_missing_database_in_one_line(tmp_path: Path) -> None:
    proc = run_cli("--db", str(tmp_path / "none.db"), "api", "--port", "0", "--workers", "2", timeout=60)
    assert proc.returncode == 2 and "no database" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, \
        proc.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_worker_that_dies_is_not_restarted_silently(demo_db: Path, tmp_path: Path) -> None:
    """One worker killed: the parent says so in one line, stops the other and exits non-zero (a
    supervisor such as systemd then restarts the whole `orderq api`, and the log shows why)."""
    log = tmp_path / "api.log"
    proc, url = start_server(demo_db, log, "--workers", "2")
    try:
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        rc = proc.wait(timeout=60)
    finally:
        stop_server(proc)
    assert rc == 1
    assert f"worker {victim} exited with code -9 while serving" in log.read_text(), log.read_text()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert _port_free(url)
