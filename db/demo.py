"""`orderq demo`: a realistic, deterministic order desk, fast enough for 100,000 orders.

Orders are computed with the same core rules as live entry (class, due_at, holds, straight-through,
line amounts) and written in bulk inside one transaction, each with the events that explain its
state, so `orderq check` holds on a fresh demo just as on a lived-in database.
"""
from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core import orders as machine
from core.enums import Channel, HoldReason, OrderState, Tier
from core.money import line_amount, to_cents_int, to_price_int
from db.claims import new_token
from db.convert import ts
from db.events import append_many, dumps
from db.store import Store

DEMO_USERS = [("alice", "rep"), ("bob", "rep"), ("carol", "returns"), ("sam", "supervisor"), ("admin", "admin")]
REPS = ["alice", "bob"]

_FIRST = ["North", "Blue", "Silver", "Harbour", "Oak", "Granite", "Maple", "Summit", "River", "Cedar", "Iron",
          "Golden", "Pioneer", "Bright", "Coastal", "Union", "Red", "Green", "Alpine", "Prairie"]
_SECOND = ["Trading", "Supplies", "Retail", "Foods", "Hardware", "Outfitters", "Gifts", "Wholesale", "Market",
           "Stores", "Distributors", "Provisions", "Imports", "Goods", "Depot"]
_SUFFIX = ["Ltd", "LLC", "& Co", "Inc", "GmbH", "SA", "plc"]
_COUNTRIES = ["United Kingdom", "Germany", "France", "USA", "Netherlands", "Spain", "Ireland", "Belgium", "Sweden"]
_CATEGORIES = {
    "Beverages": ["Coffee beans 1kg", "Green tea tin", "Sparkling water 24pk", "Cola syrup", "Herbal tea box"],
    "Homeware": ["Enamel mug", "Linen napkin set", "Glass jar 1L", "Bamboo tray", "Ceramic bowl"],
    "Stationery": ["A5 notebook", "Gel pen pack", "Kraft envelopes", "Desk organiser", "Washi tape"],
    "Tools": ["Cordless drill", "Hex key set", "Tape measure 5m", "Utility knife", "Spirit level"],
    "Garden": ["Seed tray", "Hose nozzle", "Pruning shears", "Plant labels", "Watering can"],
    "Toys": ["Wooden train", "Puzzle 500pc", "Kite", "Marble run", "Plush bear"],
}
_CHANNELS = [("online", 35), ("edi", 15), ("phone", 25), ("email", 14), ("fax", 5), ("walk_in", 6)]
_TYPES = [("standard", 58), ("rush", 9), ("change", 9), ("custom", 8), ("backorder", 9), ("quote", 7)]
_TIERS = [("standard", 65), ("repeat", 25), ("key_account", 10)]
_HOLDS = [("customer_info", 35), ("pricing", 20), ("customer_request", 25), ("stock", 20)]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


@dataclass
class DemoSummary:
    orders: int
    customers: int
    products: int
    users: int
    by_state: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"orders": self.orders, "customers": self.customers, "products": self.products,
                "users": self.users, "by_state": self.by_state}


class _Events:
    """Bulk event rows, written with executemany at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, at: datetime, actor: str, entity: str, eid: int | None, ref: str | None, action: str, data: dict) -> None:
        self.rows.append((ts(at), actor, entity, eid, ref, action, dumps(data)))


def _users(c: sqlite3.Connection, now: datetime, ev: _Events) -> int:
    n = 0
    for name, role in DEMO_USERS:
        if c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            continue
        cur = c.execute("INSERT INTO users (name, role, active, created_at) VALUES (?,?,1,?)", (name, role, ts(now)))
        ev.add(now, "demo", "user", cur.lastrowid, name, "user_added", {"role": role, "state": "active"})
        n += 1
    return n


def _customers(c: sqlite3.Connection, rng: random.Random, count: int) -> list[sqlite3.Row]:
    rows = []
    start = int(c.execute("SELECT COUNT(*) FROM customers").fetchone()[0])
    for i in range(start, start + count):
        tier = _pick(rng, _TIERS)
        limit = rng.choice([10_000, 25_000, 50_000, 100_000, 250_000]) * (3 if tier == "key_account" else 1)
        balance = int(limit * rng.choice([0, 0, 0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8]))
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}"
        rows.append((f"C{i + 1:05d}", name, tier, limit * 100, balance * 100, rng.choice(_COUNTRIES)))
    c.executemany(
        "INSERT INTO customers (code, name, tier, credit_limit_cents, open_balance_cents, country) VALUES (?,?,?,?,?,?)",
        rows,
    )
    return c.execute("SELECT * FROM customers").fetchall()


def _products(c: sqlite3.Connection, rng: random.Random, now: datetime, ev: _Events, scale: int) -> list[dict]:
    existing = c.execute("SELECT * FROM products").fetchall()
    if existing:
        return [dict(r) for r in existing]
    prods = []
    n = 0
    stock_moves = {}
    for cat, names in _CATEGORIES.items():
        for base in names:
            for variant in ("", " XL", " Pro", " Mini"):
                n += 1
                sku = f"{cat[:3].upper()}-{n:04d}"
                price = Decimal(rng.choice([85, 120, 250, 399, 650, 999, 1450, 2500, 4999, 12900, 24999])) / 100
                stock = rng.choice([0, 5, 40]) if rng.random() < 0.01 else rng.randint(200, 2000) * scale
                active = 0 if rng.random() < 0.03 else 1
                prods.append({"sku": sku, "description": base + variant, "price_e4": to_price_int(price),
                              "stock": stock, "category": cat, "active": active})
                stock_moves[sku] = stock
    c.executemany(
        "INSERT INTO products (sku, description, price_e4, stock, category, active) VALUES (:sku,:description,:price_e4,:stock,:category,:active)",
        prods,
    )
    ev.add(now, "demo", "product", None, None, "stock_loaded", {"stock": stock_moves})
    return prods


def generate(store: Store, *, orders: int = 300, seed: int = 1, actor: str = "demo") -> DemoSummary:
    rng = random.Random(seed)
    rules = store.rules
    now = store.now()
    ev = _Events()
    with store.write() as c:
        users = _users(c, now, ev)
        customers = _customers(c, rng, max(20, min(2000, orders // 40)))
        products = _products(c, rng, now - timedelta(days=4), ev, max(1, orders // 150))
        active_products = [p for p in products if p["active"]]
        stock = {p["sku"]: p["stock"] for p in products}
        by_sku = {p["sku"]: p for p in products}
        first_id = int(c.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]) + 1
        order_rows: list[tuple] = []
        line_rows: list[tuple] = []
        tick_rows: list[tuple] = []
        charge_rows: list[tuple] = []
        by_state: dict[str, int] = defaultdict(int)
        horizon = timedelta(hours=max(6.0, min(72.0, orders / 40)))
        for k in range(orders):
            oid = first_id + k
            number = f"SO-{oid:06d}"
            # newer orders are denser: the desk is mid-shift
            age = horizon * (rng.random() ** 1.6)
            received = now - age
            cust = rng.choice(customers)
            tier = Tier(cust["tier"])
            channel = Channel(_pick(rng, _CHANNELS))
            otype = _pick(rng, _TYPES)
            if otype not in rules.request_types:
                otype = next(iter(rules.request_types))
            nlines = rng.choices([1, 2, 3, 4, 5, 6], weights=[25, 25, 20, 15, 10, 5])[0]
            chosen = rng.sample(active_products if rng.random() > 0.02 else products, nlines)
            lines = []
            total_cents = 0
            needs: dict[str, int] = defaultdict(int)
            for i, p in enumerate(chosen, start=1):
                qty = rng.choice([1, 1, 2, 3, 5, 10, 12, 24, 50]) if rng.random() > 0.01 else 1500
                disc = rng.choice([0, 0, 0, 0, 5, 10]) if tier != Tier.STANDARD else 0
                unit = Decimal(p["price_e4"]) / 10000
                amt = to_cents_int(line_amount(qty, unit, Decimal(disc)))
                total_cents += amt
                needs[p["sku"]] += qty
                lines.append((oid, i, p["sku"], p["description"], qty, p["price_e4"], disc * 100, amt))
            shipping = 0
            if channel in (Channel.ONLINE, Channel.PHONE) and total_cents < 50000:
                shipping = rng.choice([495, 695, 995])
                charge_rows.append((oid, "SHIP", "shipping", "Delivery", shipping))
                total_cents += shipping
            total = Decimal(total_cents) / 100
            decision = machine.decide(
                rules=rules, channel=channel, order_type=otype, tier=tier, known=True, received_at=received,
                total_cents=total_cents, open_balance_cents=cust["open_balance_cents"],
                credit_limit_cents=cust["credit_limit_cents"], needs=needs, available={s: stock[s] for s in needs},
                inactive_skus=[s for s in needs if not by_sku[s]["active"]], max_line_qty=max(ln[4] for ln in lines),
            )
            cls, due, straight, queue_reason = decision.cls, decision.due, decision.straight, decision.queue_reason

            created: dict[str, Any] = {"customer": cust["code"], "channel": channel.value, "type": otype,
                                       "priority": cls.priority.value, "total": str(total), "lines": nlines}
            if queue_reason:
                created["queue_reason"] = queue_reason
            state = OrderState.QUEUED
            hold_reason = hold_note = None
            hold_started = released_at = released_by = shipped_at = closed_at = cancelled_at = None
            claimed_by = token = claimed_at = lease = None
            paused = 0.0
            cancel_reason = None
            later: list[tuple[datetime, str, str, dict]] = []  # (at, actor, action, data)
            checklist = list(rules.request_types[otype].checklist)
            age_h = age.total_seconds() / 3600
            r = rng.random()
            if straight:
                state = OrderState.RELEASED
                released_at, released_by = received, "system"
                created["state"] = "queued"
                later.append((received, "system", "auto_release",
                              {"state": "released", "stock": {s: -q for s, q in needs.items()}, "straight_through": True}))
                for s, q in needs.items():
                    stock[s] -= q
            elif decision.hold:
                h = decision.hold
                state, hold_reason, hold_note, hold_started = OrderState.ON_HOLD, h.reason.value, h.note, received
                created["state"] = "on_hold"
                created["hold"] = {"reason": h.reason.value, "note": h.note}
            else:
                created["state"] = "queued"
                # what a rep has done with it so far depends on its age and luck
                done_p = min(0.97, age.total_seconds() / rules.sla(cls.priority).total_seconds() * 0.8)
                if r < done_p * 0.93 and all(q <= stock[s] for s, q in needs.items()):
                    rep = rng.choice(REPS)
                    t_claim = received + timedelta(minutes=rng.uniform(2, 90))
                    t_rel = t_claim + timedelta(minutes=rng.uniform(3, 25))
                    if t_rel > now:
                        t_claim, t_rel = received, received + (now - received) * 0.9
                    tok = new_token()
                    later.append((t_claim, rep, "claim", {"claim": "acquire", "token": tok, "state": "in_progress"}))
                    for step_i, step in enumerate(checklist):
                        at = t_claim + (t_rel - t_claim) * (step_i + 1) / (len(checklist) + 1)
                        tick_rows.append((oid, step, rep, ts(at)))
                        later.append((at, rep, "tick", {"step": step}))
                    later.append((t_rel, rep, "release", {"state": "released", "claim": "drop", "token": tok,
                                                           "holder": rep, "stock": {s: -q for s, q in needs.items()}}))
                    for s, q in needs.items():
                        stock[s] -= q
                    state, released_at, released_by = OrderState.RELEASED, t_rel, rep
                elif r < done_p * 0.93 + 0.02:
                    cancel_reason = rng.choice(["customer cancelled by phone", "duplicate order", "price disagreement"])
                    t = received + (now - received) * rng.uniform(0.2, 0.9)
                    later.append((t, rng.choice(REPS), "cancel", {"state": "cancelled", "reason": cancel_reason}))
                    state, cancelled_at = OrderState.CANCELLED, t
                elif r < done_p * 0.93 + 0.06:
                    reason = HoldReason(_pick(rng, _HOLDS))
                    t = received + (now - received) * rng.uniform(0.1, 0.8)
                    note = {"customer_info": "waiting on ship-to address", "pricing": "price list mismatch",
                            "customer_request": "customer asked to wait for month end",
                            "stock": "awaiting supplier delivery"}[reason.value]
                    later.append((t, rng.choice(REPS), "hold", {"state": "on_hold", "reason": reason.value, "note": note}))
                    state, hold_reason, hold_note, hold_started = OrderState.ON_HOLD, reason.value, note, t
                elif r > 0.985 and age_h < 2:
                    rep = REPS[k % len(REPS)]
                    tok = new_token()
                    claimed_at = max(received, now - timedelta(minutes=rng.uniform(0.5, 5)))
                    lease = now + rules.lease
                    later.append((claimed_at, rep, "claim", {"claim": "acquire", "token": tok, "state": "in_progress",
                                                             "lease_expires_at": ts(lease)}))
                    state, claimed_by, token = OrderState.IN_PROGRESS, rep, tok
            if state == OrderState.RELEASED and released_at is not None:
                age_rel = (now - released_at).total_seconds() / 3600
                if age_rel > 4 and rng.random() < 0.8:
                    shipped_at = released_at + timedelta(hours=rng.uniform(1, min(age_rel, 20)))
                    later.append((shipped_at, "warehouse", "ship", {"state": "shipped"}))
                    state = OrderState.SHIPPED
                    if (now - shipped_at) > timedelta(hours=12) and rng.random() < 0.5:
                        closed_at = shipped_at + timedelta(hours=rng.uniform(1, 10))
                        later.append((closed_at, "warehouse", "close", {"state": "closed"}))
                        state = OrderState.CLOSED
            by_state[state.value] += 1
            order_rows.append((
                oid, number, cust["id"], channel.value, otype, state.value, cls.priority.value, cls.priority.level,
                cls.source, tier.rank, ts(received), ts(due), paused, hold_reason, hold_note, ts(hold_started),
                total_cents, claimed_by, token, ts(claimed_at), ts(lease), ts(released_at), released_by,
                ts(shipped_at), ts(closed_at), ts(cancelled_at), cancel_reason, int(straight), queue_reason,
                actor, ts(received), ts(now),
            ))
            line_rows.extend(lines)
            ev.add(received, actor, "order", oid, number, "created", created)
            for at, who, action, data in sorted(later, key=lambda x: x[0]):
                ev.add(at, who, "order", oid, number, action, data)
        c.executemany(
            """INSERT INTO orders (id, number, customer_id, channel, type, state, priority, priority_level,
                 priority_source, tier_rank, received_at, due_at, paused_s, hold_reason, hold_note, hold_started_at,
                 total_cents, claimed_by, claim_token, claimed_at, lease_expires_at, released_at, released_by,
                 shipped_at, closed_at, cancelled_at, cancel_reason, straight_through, queue_reason,
                 created_by, created_at, updated_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            order_rows,
        )
        c.executemany(
            """INSERT INTO order_lines (order_id, line_no, sku, description, qty, unit_price_e4, discount_e2, amount_cents)
               VALUES (?,?,?,?,?,?,?,?)""",
            line_rows,
        )
        # released demo orders took their stock whole, shipped ones shipped whole (no demo backorders yet)
        c.execute("""UPDATE order_lines SET qty_allocated = qty,
                       qty_shipped = CASE WHEN o.state IN ('shipped','closed') THEN qty ELSE 0 END
                     FROM orders o WHERE o.id = order_lines.order_id AND o.id >= ?
                       AND o.state IN ('released','shipped','closed')""", (first_id,))
        c.executemany("INSERT INTO order_charges (order_id, code, kind, description, amount_cents) VALUES (?,?,?,?,?)",
                      charge_rows)
        c.executemany("INSERT INTO order_ticks (order_id, step, ticked_by, ticked_at) VALUES (?,?,?,?)", tick_rows)
        c.executemany("UPDATE products SET stock = ? WHERE sku = ?", [(q, s) for s, q in stock.items()])
        # events in time order, so the log reads like the day it describes
        ev.rows.sort(key=lambda r: r[0])
        append_many(c, ev.rows)
    return DemoSummary(orders=orders, customers=len(customers), products=len(products), users=users,
                       by_state=dict(sorted(by_state.items())))
from db.demo_returns import generate_returns  # noqa: E402,F401
