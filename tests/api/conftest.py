"""A real `orderq api` process on a free loopback port over a demo database, and a real HTTP client.

The server's stderr (its one line per request) goes to a file the tests can read; nothing here
stands in for the server or the store."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from db.service import Desk
from db.store import Store
from tests.conftest import REPO, connect_db
from tests.helpers import clean_env, wait_for

#: a clean order: key-account-free demo customer with credit room, an active SKU with stock
SKU = "BEV-0001"
SHOPIFY_SECRET = "hush-" + "5" * 59


@dataclass
class Server:
    db: Path
    url: str
    log: Path
    proc: subprocess.Popen
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, partner: str | None = None, **kw) -> httpx.Client:  # noqa: ANN003
        headers = {"Authorization": f"Bearer {self.keys[partner]}"} if partner else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)

    def count(self, sql: str, *args: object) -> int:
        return int(query(self.db, sql, *args)[0][0])

    def log_text(self) -> str:
        return self.log.read_text()


def query(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    c = connect_db(db)
    c.row_factory = sqlite3.Row
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def add_partner(db: Path, name: str, **kw) -> str:  # noqa: ANN003
    store = Store.open(db)
    try:
        return Desk.operator(store).partners.add(name, kw.pop("channel", "online"), **kw).key
    finally:
        store.close()


def start_server(db: Path, log: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`orderq api` as a user starts it (its default --workers unless `extra` says otherwise)."""
    exe = Path(sys.executable).parent / "orderq"
    fh = log.open("w")
    proc = subprocess.Popen([str(exe), "--db", str(db), "api", "--port", "0", *extra], stdout=subprocess.DEVNULL,
                            stderr=fh,
                            env=clean_env(), cwd=REPO)
    fh.close()

    def listening() -> str | None:
        if proc.poll() is not None:
            raise AssertionError(f"orderq api exited {proc.returncode}: {log.read_text()}")
        m = re.search(r"listening on (http://\S+)", log.read_text())
        return m.group(1) if m else None

    return proc, wait_for(listening, timeout=90, what="orderq api to listen")


def _serve(demo_db: Path, tmp_path: Path, *extra: str) -> Iterator[Server]:
    keys = {"shop": add_partner(demo_db, "shop"), "tied": add_partner(demo_db, "tied", customer="C00003"),
            "pricer": add_partner(demo_db, "pricer", may_set_prices=True),
            "shopify": add_partner(demo_db, "shopify", webhook_secret=SHOPIFY_SECRET)}
    log = tmp_path / "api.log"
    proc, url = start_server(demo_db, log, *extra)
    try:
        yield Server(demo_db, url, log, proc, keys)
    finally:
        stop_server(proc)


@pytest.fixture
def server(demo_db: Path, tmp_path: Path) -> Iterator[Server]:
    """`orderq api` as started by default (one process). Partners: `shop` (any customer,
    list prices), `tied` (customer C00003 only), `pricer` (may set prices), `shopify` (a webhook secret)."""
    yield from _serve(demo_db, tmp_path)


@pytest.fixture
def one_process_server(demo_db: Path, tmp_path: Path) -> Iterator[Server]:
    """As `server`, with `--workers 1`: for what one process promises on its own, such as the at-once
    409 for a twin while the write lock is held elsewhere (its in-process WriterSlot; across processes
    the twin waits for the lock, then gets its 409: test_keys_across_processes)."""
    yield from _serve(demo_db, tmp_path, "--workers", "1")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def clean_customer(db: Path) -> str:
    """A customer whose orders pass every check (standard tier, credit room to spare)."""
    return query(db, "SELECT code FROM customers WHERE credit_limit_cents - open_balance_cents > 100000 "
                     "AND known = 1 ORDER BY id LIMIT 1")[0][0]
