"""A small, hand-computable day at the order desk, built through the real service on a WAL file.

The clock (FakeClock) starts 2026-11-26 09:00 UTC; the report is taken at 11:10 UTC over the UTC day.
Orders (C1 standard tier, big credit; C2 no credit; SKU A-1 at 10.00):
  O0  phone standard P3, received 2026-11-25 10:00, still queued        -> breached open (due 18:00 that
      day: 8 h of the default desk hours, Mon–Fri 08:00–18:00 UTC), not in window
  O1  online standard P3, 09:00, straight through, released 09:00       -> cycle 0 s, met, touchless
  O2  phone standard P3, 09:00, alice claims 09:10, releases 09:40      -> cycle 2400 s, met, handling 1800 s
  O3  phone rush P1 (due 10:00), 09:00, bob claims 09:40, releases 10:30 -> cycle 5400 s, missed, handling 3000 s
  O4  phone standard P3 for C2, 09:00: credit hold at entry             -> on hold, ever held
  O5  email standard P3, 09:00, cancelled 10:30                          -> cancelled
  O6  phone rush P1, 10:20 (due 11:20)                                   -> queued, at risk at 11:10
  O7  edi backorder P4, 10:20                                            -> queued (not straight-through type)
Shipped: O1 (10 units) at 10:00 and O2 (5 units) at 10:50: 15 units shipped in the window.
Returns (written straight into the returns tables, the returns service lives on another branch):
  R1 requested 09:30, received 10:00, inspected 10:10, resolved 10:40: damaged 2 (scrap), no_longer_needed 1 (restock)
  R2 requested 10:00, pending_approval: damaged 3
  R3 requested 08:00, received 09:00, state received: wrong_item 4, 3 received
  R4 requested 11-25 10:00, received 11-26 08:00, inspected 10:30, resolved 11:00: defective 1 (refurbish)
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.convert import ts
from db.service import Desk
from db.service.orders import LineInput
from db.store import Store
from db.config import load_rules
from core.rules import Claims
from tests.conftest import FakeClock, new_db

DAY = datetime(2026, 11, 26, tzinfo=UTC)
REPORT_AT = datetime(2026, 11, 26, 11, 10, tzinfo=UTC)


def at(h: int, m: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


def seed_reference(desk: Desk) -> None:
    for name, role in (("alice", "rep"), ("bob", "rep"), ("sam", "supervisor"), ("carol", "returns")):
        desk.users.add(name, role)
    with desk.store.write() as c:
        c.execute("INSERT INTO customers (code, name, tier, credit_limit_cents, open_balance_cents) "
                  "VALUES ('C1', 'Cedar Foods', 'standard', 100000000, 0), ('C2', 'Iron Depot', 'standard', 0, 0)")
        c.execute("INSERT INTO products (sku, description, price_e4, stock, category) "
                  "VALUES ('A-1', 'Enamel mug', 100000, 1000, 'Homeware')")


def work(desk: Desk, number: str) -> None:
    """Tick every checklist step and release, as the claiming rep."""
    order = desk.orders.get(number)
    token = order.claim_token
    for step in order.checklist:
        desk.orders.tick(number, step, token=token)
    desk.orders.release(number, token=token)


def _insert_return(c, number: str, cust: int, state: str, order_id: int, times: dict, lines: list[dict]) -> None:  # noqa: ANN001
    cols = {"number": number, "customer_id": cust, "state": state, "resolution": "refund", "priority": "P3",
            "priority_level": 3, "tier_rank": 2, "requested_by": "carol", "due_at": ts(at(23)),
            "created_at": times["requested_at"], "updated_at": times["requested_at"], **times}
    cur = c.execute(f"INSERT INTO returns ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", list(cols.values()))
    for ln in lines:
        c.execute("INSERT INTO return_lines (return_id, order_id, sku, qty, reason, qty_received, disposition) "
                  "VALUES (?,?,?,?,?,?,?)", (cur.lastrowid, order_id, "A-1", ln["qty"], ln["reason"],
                                             ln.get("received"), ln.get("disposition")))


def build_day(path: Path, clock: FakeClock) -> dict[str, str]:
    clock.t = at(9)
    op = Desk.open(path, None, clock=clock)
    seed_reference(op)
    op.store.close()
    # claims here last longer than the default 10 min lease: the clock jumps instead of renewing
    rules = load_rules().model_copy(update={"claims": Claims(lease_minutes=120)})
    alice = Desk.open(path, "alice", clock=clock, rules=rules)
    bob = Desk.open(path, "bob", clock=clock, rules=rules)
    one = [LineInput("A-1", 1)]
    n: dict[str, str] = {}
    n["O0"] = alice.orders.create(customer="C1", channel="phone", type="standard", lines=one,
                                  received_at=at(10, day=25)).number
    n["O1"] = alice.orders.create(customer="C1", channel="online", type="standard", lines=[LineInput("A-1", 10)]).number
    n["O2"] = alice.orders.create(customer="C1", channel="phone", type="standard", lines=[LineInput("A-1", 5)]).number
    n["O3"] = alice.orders.create(customer="C1", channel="phone", type="rush", lines=one).number
    n["O4"] = alice.orders.create(customer="C2", channel="phone", type="standard", lines=one).number
    n["O5"] = alice.orders.create(customer="C1", channel="email", type="standard", lines=one).number
    clock.t = at(9, 10)
    alice.orders.claim(n["O2"])
    clock.t = at(9, 40)
    work(alice, n["O2"])
    bob.orders.claim(n["O3"])
    clock.t = at(10)
    alice.orders.ship(n["O1"])
    clock.t = at(10, 20)
    n["O6"] = alice.orders.create(customer="C1", channel="phone", type="rush", lines=one).number
    n["O7"] = alice.orders.create(customer="C1", channel="edi", type="backorder", lines=one).number
    clock.t = at(10, 30)
    work(bob, n["O3"])
    alice.orders.cancel(n["O5"], "customer changed their mind")
    clock.t = at(10, 50)
    alice.orders.ship(n["O2"])
    o1 = alice.orders.get(n["O1"]).id
    with alice.store.write() as c:
        cust = c.execute("SELECT id FROM customers WHERE code = 'C1'").fetchone()[0]
        _insert_return(c, "RMA-1", cust, "resolved", o1,
                       {"requested_at": ts(at(9, 30)), "received_at": ts(at(10)), "inspected_at": ts(at(10, 10)),
                        "resolved_at": ts(at(10, 40))},
                       [{"qty": 2, "reason": "damaged", "received": 2, "disposition": "scrap"},
                        {"qty": 1, "reason": "no_longer_needed", "received": 1, "disposition": "restock"}])
        _insert_return(c, "RMA-2", cust, "pending_approval", o1, {"requested_at": ts(at(10))},
                       [{"qty": 3, "reason": "damaged"}])
        _insert_return(c, "RMA-3", cust, "received", o1, {"requested_at": ts(at(8)), "received_at": ts(at(9))},
                       [{"qty": 4, "reason": "wrong_item", "received": 3}])
        _insert_return(c, "RMA-4", cust, "resolved", o1,
                       {"requested_at": ts(at(10, day=25)), "received_at": ts(at(8)), "inspected_at": ts(at(10, 30)),
                        "resolved_at": ts(at(11))},
                       [{"qty": 1, "reason": "defective", "received": 1, "disposition": "refurbish"}])
    alice.store.close()
    bob.store.close()
    clock.t = REPORT_AT
    return n


#: the worked numbers for build_day, reported at 11:10 UTC over [2026-11-26 00:00Z, 2026-11-27 00:00Z)
EXPECTED = {
    "orders": {
        "queue_depth": {"P1": 1, "P2": 0, "P3": 1, "P4": 1},   # O6, O0, O7
        "in_progress": 0,
        "on_hold": 1,                                            # O4
        "oldest_wait_s": 90600.0,                                # 11:10 − 11-25 10:00 = 25 h 10 m
        "sla_breached_open": 1,                                  # O0 (due 11-25 18:00, the desk's close)
        "sla_at_risk": 1,                                        # O6 due 11:20, within 15 min
        "cycle_time_p50_s": 2400.0,                              # [0, 2400, 5400] rank ceil(1.5)=2
        "cycle_time_p90_s": 5400.0,                              # rank ceil(2.7)=3
        "sla_met_pct": 66.7,                                     # O1, O2 met; O3 released 10:30 > due 10:00
        "released": 3,
        "touchless_pct": 33.3,                                   # O1 of 3
        "electronic_share_pct": 28.6,                            # O1 online + O7 edi of O1..O7 = 2/7
        "hold_rate_pct": 14.3,                                   # O4 of 7
        "cancel_rate_pct": 14.3,                                 # O5 of 7
        "cycle_time_rep_p50_s": 2400.0,                          # O2, O3 (not O1, touchless): [2400, 5400] rank 1
        "cycle_time_rep_p90_s": 5400.0,                          # rank ceil(1.8)=2
    },
    "returns": {
        "open": 2,                                               # RMA-2 pending approval, RMA-3 received
        "pending_approval": 1,
        "return_rate_pct": 46.7,                                 # received back 2+1+3+1 = 7 of 10+5 = 15 shipped
        "cycle_time_p50_s": 4200.0,                              # RMA-1 70 min, RMA-4 25 h: rank ceil(1.0)=1
        "refund_time_p50_s": 2400.0,                             # RMA-1 40 min, RMA-4 3 h
        "by_reason": {"damaged": 5, "wrong_item": 4, "no_longer_needed": 1},   # RMA-4 requested the day before
        "by_disposition": {"scrap": 2, "refurbish": 1, "restock": 1},
    },
}


@pytest.fixture
def kpi_day(tmp_path: Path, clock: FakeClock) -> tuple[Path, dict[str, str]]:
    p = new_db(tmp_path / "day.db")
    Store.open(p, create=True).close()
    return p, build_day(p, clock)
