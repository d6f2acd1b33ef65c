"""A small desk for partial shipments: real WAL file, real service, stock only ever booked in by events.

Products start at stock 0 and every unit arrives through `stock receive`, so `orderq check` (stock
equals the sum of its events) holds from the first command. Customers: C1 takes partial
shipments, C2 is "ship complete only".
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.dbapi import Connection
from db.service import Desk
from db.service.shipping import set_ship_complete
from tests.conftest import FakeClock, connect_db


def seed(path: Path, clock: FakeClock) -> None:
    op = Desk.open(path, None, clock=clock)
    try:
        for name, role in (("alice", "rep"), ("sam", "supervisor"), ("carol", "returns")):
            op.users.add(name, role)
        with op.store.write() as c:
            c.execute("INSERT INTO customers (code, name, tier, credit_limit_cents, open_balance_cents) "
                      "VALUES ('C1', 'Cedar Foods', 'standard', 100000000, 0), ('C2', 'Iron Depot', 'standard', 100000000, 0)")
            c.executemany("INSERT INTO products (sku, description, price_e4, stock) VALUES (?, ?, 100000, 0)",
                          [("A-1", "Enamel mug"), ("B-1", "Tea towel"), ("Z-1", "Copper kettle")])
    finally:
        op.store.close()
    sam = Desk.open(path, "sam", clock=clock)
    try:
        sam.stock.receive("A-1", 100)
        sam.stock.receive("B-1", 100)
        set_ship_complete(sam.ctx, "C2", True)
    finally:
        sam.store.close()


@pytest.fixture
def sdb(db_path: Path, clock: FakeClock) -> Path:
    seed(db_path, clock)
    return db_path


def raw(path: Path) -> Connection:
    """A test's own connection (autocommit, rows by name) on either backend."""
    c = connect_db(path)
    if isinstance(c, sqlite3.Connection):
        c.isolation_level = None
        c.row_factory = sqlite3.Row
    return c


def work_and_release(desk: Desk, number: str) -> None:
    """Claim, tick every step and release, as a rep does (lifting a stock hold first, with a note)."""
    o = desk.orders.get(number)
    if o.hold_reason is not None:
        desk.orders.unhold(number, "ship what is in stock, backorder the rest")
    got = desk.orders.claim(number)
    for step in o.checklist:
        desk.orders.tick(number, step, token=got.claim_token)
    desk.orders.release(number, token=got.claim_token)
