"""Requests queued for the write lock inside one `orderq api` process (its WriterSlot): each still
gets the 409 for a twin while it waits, and each gets its own answer once its turn comes."""
from __future__ import annotations

import pytest

import sqlite3
import threading

import httpx

from tests.api.conftest import SKU, Server, clean_customer
from tests.helpers import wait_for

KEYS = ("k-q1", "k-q2", "k-q3")  # three waiting requests: the pool has four threads, one left for twins


@pytest.mark.sqlite_only("holds SQLite's write lock from outside (BEGIN IMMEDIATE) while requests queue")
def test_requests_waiting_for_the_write_lock_keep_their_409_and_get_their_own_answers(
        one_process_server: Server) -> None:
    """The write lock is held from outside: the first request waits in SQLite's busy handler holding
    the process's slot, the other two wait for the slot. A twin of each (same key, same body) is
    refused with 409 at once, whichever of the pair got in first; once the lock is let go, every key
    makes exactly one order, and each 201 carries its own external reference and number."""
    server = one_process_server
    cust = clean_customer(server.db)
    bodies = {k: {"customer": cust, "lines": [{"sku": SKU, "qty": 1}], "external_ref": f"Q-{k}"} for k in KEYS}
    got: dict[str, list[httpx.Response]] = {k: [] for k in KEYS}

    def post(key: str) -> None:
        with server.client("shop") as http:
            got[key].append(http.post("/v1/orders", json=bodies[key], headers={"Idempotency-Key": key}))

    def refused_twins() -> bool:
        return all(any(r.status_code == 409 for r in got[k]) for k in KEYS)

    lock = sqlite3.connect(server.db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    threads = []
    try:
        for key in KEYS:
            for _ in range(2):  # the request and its twin
                t = threading.Thread(target=post, args=(key,))
                t.start()
                threads.append(t)
        wait_for(refused_twins, timeout=4.5, what="a 409 for each key in flight")  # under busy_timeout
        assert all(r.status_code == 409 for k in KEYS for r in got[k])  # nothing is made while the lock is held
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(timeout=30)
    numbers = set()
    for key in KEYS:
        codes = sorted(r.status_code for r in got[key])
        assert codes == [201, 409], (key, [r.text for r in got[key]])
        made = next(r.json() for r in got[key] if r.status_code == 201)
        twin = next(r.json() for r in got[key] if r.status_code == 409)
        assert made["external_ref"] == f"Q-{key}" and made["state"] == "released"
        assert twin["error"]["code"] == "in_flight"
        assert server.count("SELECT COUNT(*) FROM orders WHERE source_ref = ? AND number = ?",
                            f"shop:Q-{key}", made["number"]) == 1
        numbers.add(made["number"])
    assert len(numbers) == len(KEYS)
    assert server.count("SELECT COUNT(*) FROM api_idempotency WHERE idem_key LIKE 'k-q%' AND state = 'done'") == 3
