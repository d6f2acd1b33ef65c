"""`orderq demo`: a realistic, deterministic order desk, fast enough for 100,000 orders.

The demo is the desk's last few days, ending now: a team of eight reps (alice, bob and six more)
works the queue deadline-first in the rules' desk hours (`db.demo_desk`, core.open_time), so the first screen shows a desk
that keeps up: fresh work, a few recent holds, hardly anything overdue. Its length follows the
orders asked for: enough desk hours for the team to handle them at about 80% of its time; the
warehouse ships within hours, so even a small demo has shipments to return.
Orders are computed with the same core rules as live entry (class, due_at, holds, straight-through,
line amounts) and written in bulk inside one transaction, each with the events that explain its
state, so `orderq check` holds on a fresh demo just as on a lived-in database.
Customers have addresses, contacts and PO / ship-complete rules, and orders the header live entry
gives them (`db.demo_book`); a few orders shipped in part wait for stock (`db.demo_backorders`).
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core import orders as machine
from core.money import to_price_int
from core.open_time import OpenTimeline
from db import dbapi
from db.convert import dt, ts
from db.demo_backorders import BACKORDER_EVERY, Taken, choose
from db.demo_book import HEADER_SQL_COLUMNS, Book, add_customer_book
from db.demo_desk import Job, Desk
from db.demo_draw import arrival_offsets, draw_orders, pick, surge_size
from db.events import append_many, dumps
from db.store import Store

#: the order desk's team: alice and bob, and six more reps
REPS = ["alice", "bob", "dana", "eli", "farah", "gus", "hana", "ivo"]
DEMO_USERS = [*((r, "rep") for r in REPS), ("carol", "returns"), ("sam", "supervisor"), ("admin", "admin")]
UTILISATION = 0.8     # share of the team's desk hours the demo's work fills
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
_TIERS = [("standard", 65), ("repeat", 25), ("key_account", 10)]


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

    def add(self, at: datetime | float, actor: str, entity: str, eid: int | None, ref: str | None, action: str,
            data: dict) -> None:
        self.rows.append((at if isinstance(at, float) else ts(at), actor, entity, eid, ref, action, dumps(data)))


def existing_data(store: Store) -> str | None:
    """What the database already holds that demo data would mix with (orders, customers, users),
    in words, or None for a database that is empty (as `orderq init` leaves it)."""
    held = []
    for table, word in (("orders", "orders"), ("customers", "customers"), ("users", "users")):
        n = int(store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        if n:
            held.append(f"{n:,} {word}")
    return ", ".join(held) or None


def _users(c: dbapi.Connection, now: datetime, ev: _Events) -> int:
    n = 0
    for name, role in DEMO_USERS:
        if c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            continue
        cur = c.execute("INSERT INTO users (name, role, active, created_at) VALUES (?,?,1,?)", (name, role, ts(now)))
        ev.add(now, "demo", "user", cur.lastrowid, name, "user_added", {"role": role, "state": "active"})
        n += 1
    return n


def _customers(c: dbapi.Connection, rng: random.Random, count: int) -> list[dbapi.Row]:
    rows = []
    start = int(c.execute("SELECT COUNT(*) FROM customers").fetchone()[0])
    for i in range(start, start + count):
        tier = pick(rng, _TIERS)
        limit = rng.choice([10_000, 25_000, 50_000, 100_000, 250_000]) * (3 if tier == "key_account" else 1)
        balance = int(limit * rng.choice([0, 0, 0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8]))
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}"
        rows.append((f"C{i + 1:05d}", name, tier, limit * 100, balance * 100, rng.choice(_COUNTRIES)))
    c.executemany(
        "INSERT INTO customers (code, name, tier, credit_limit_cents, open_balance_cents, country) VALUES (?,?,?,?,?,?)",
        rows,
    )
    return c.execute("SELECT * FROM customers").fetchall()


def _products(c: dbapi.Connection, rng: random.Random, scale: int) -> list[dict]:
    existing = c.execute("SELECT * FROM products").fetchall()
    if existing:
        return [dict(r) for r in existing]
    prods = []
    n = 0
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
    c.executemany(
        "INSERT INTO products (sku, description, price_e4, stock, category, active) VALUES (:sku,:description,:price_e4,:stock,:category,:active)",
        prods,
    )
    return prods


def generate(store: Store, *, orders: int = 300, seed: int = 1, actor: str = "demo") -> DemoSummary:
    """A desk's last few days, ending now: see the module docstring and `db.demo_desk`."""
    rng = random.Random(seed)
    rules = store.rules
    now = store.now()
    now_s = now.timestamp()
    axis = OpenTimeline(rules.calendar, now_s)  # the rules' desk hours; open seconds from now
    u_now = 0.0
    ev = _Events()
    with store.write() as c:
        users = _users(c, now, ev)
        first_customer = int(c.execute("SELECT COALESCE(MAX(id), 0) FROM customers").fetchone()[0]) + 1
        customers = _customers(c, rng, max(20, min(2000, orders // 40)))
        book_rng = random.Random(seed * 53 + 11)  # the book's and the headers' draws, apart from the orders'
        add_customer_book(c, book_rng, first_customer)
        book = Book(c, book_rng, rules.ship_methods)
        ship_complete = {r[0] for r in c.execute("SELECT id FROM customers WHERE ship_complete = 1")}
        made_products = not c.execute("SELECT 1 FROM products LIMIT 1").fetchone()
        products = _products(c, rng, max(1, orders // 150))
        stock = {p["sku"]: p["stock"] for p in products}
        committed = dict(stock)  # what later orders may still count on
        by_sku = {p["sku"]: p for p in products}
        first_id = int(c.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]) + 1
        back = arrival_offsets(rng, orders)
        drawn = draw_orders(rng, rules, customers, products, orders, surge_size(orders))
        decisions = []
        for d in drawn:  # an order counts on the stock earlier ones left
            dec = machine.decide(
                rules=rules, channel=d["channel"], order_type=d["type"], tier=d["tier"], known=True, received_at=now,
                total_cents=d["total_cents"], open_balance_cents=d["cust"]["open_balance_cents"],
                credit_limit_cents=d["cust"]["credit_limit_cents"], needs=d["needs"],
                available={s: committed[s] for s in d["needs"]},
                inactive_skus=[s for s in d["needs"] if not by_sku[s]["active"]],
                max_line_qty=max(ln[3] for ln in d["lines"]))
            d["short"] = any(q > committed[s] for s, q in d["needs"].items())
            if not d["short"]:
                for s, q in d["needs"].items():
                    committed[s] -= q
            decisions.append(dec)
        work = sum(d["service"] for d, dec in zip(drawn, decisions) if not dec.straight)
        # desk seconds the team needs for this work (at least two desk hours)
        horizon = max(7200.0, work / (len(REPS) * UTILISATION))
        us = [u_now - horizon * share - surge for share, surge in back]
        order = sorted(range(orders), key=lambda i: (us[i], i))  # numbers follow arrival
        drawn, decisions, us = [drawn[i] for i in order], [decisions[i] for i in order], [us[i] for i in order]
        jobs: list[Job] = []
        arrivals: list[float] = []
        for k, (d, dec) in enumerate(zip(drawn, decisions)):
            u = us[k]
            received = axis.at(u)
            if dec.straight and d["night"]:  # web shops and EDI partners send at night too
                start, length = axis.closed_before(u)
                received = start + length * d["night_at"]
            arrivals.append(received)
            if not dec.straight:
                jobs.append(Job(
                    k=k, u=u, received=received, due=received + (ts(dec.due) - now_s),
                    rank=(dec.cls.priority.level, d["tier"].rank, -d["total_cents"]), service=d["service"],
                    steps=d["steps"], stock={s: -q for s, q in d["needs"].items()}, plan=d["plan"],
                    hold_reason=d["hold_reason"], cancel_reason=d["cancel_reason"],
                    auto_hold=dec.hold.reason.value if dec.hold else None, short=d["short"]))
        desk = Desk(jobs, REPS, axis=axis, u_now=u_now, now=now_s, rng=random.Random(seed * 17 + 3))
        desk.run()
        job_of = {j.k: j for j in jobs}
        after = random.Random(seed * 31 + 7)  # the warehouse's draws, apart from the desk's
        rows = _Rows(book)
        for k, (d, dec) in enumerate(zip(drawn, decisions)):
            rows.order(first_id + k, d, dec, job_of.get(k), arrivals[k], us[k], now_s=now_s, axis=axis, rules=rules,
                       actor=actor, after=after, ship_complete=d["cust"]["id"] in ship_complete)
        if made_products:  # a few shipped in part, their last line short (db.demo_backorders)
            stock = choose(rows.taken, stock, random.Random(seed * 61 + 13), max(2, orders // BACKORDER_EVERY))
            ev.add(dt(min(arrivals, default=now_s) - 3600), "demo", "product", None, None, "stock_loaded",
                   {"stock": dict(stock)})
        by_state: dict[str, int] = defaultdict(int)
        for t in rows.taken:
            for ln in t.lines if t.state in ("released", "shipped", "closed", "backordered") else ():
                stock[ln[1]] -= t.allocated.get(ln[0], ln[3])
            by_state[t.state] += 1
        rows.write(c, ev, stock)
    return DemoSummary(orders=orders, customers=len(customers), products=len(products), users=users,
                       by_state=dict(sorted(by_state.items())))


#: where the demo's order rows hold their state and shipped_at
_STATE, _SHIPPED_AT = 5, 23


class _Rows:
    """The demo's rows and events, gathered order by order and written with executemany at the end."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.orders: list[list] = []
        self.lines: list[tuple] = []
        self.charges: list[tuple] = []
        self.ticks: list[tuple] = []
        #: each order's stock history and events, in order (written last: a backorder rewrites some)
        self.taken: list[Taken] = []
        self._created: list[tuple[float, str, str, dict]] = []

    def order(self, oid: int, d: dict, dec: Any, job: Job | None, received: float, u: float, *, now_s: float,
              axis: OpenTimeline, rules: Any, actor: str, after: random.Random, ship_complete: bool) -> None:
        """One order's row, lines and events."""
        number = f"SO-{oid:06d}"
        cls = dec.cls
        created: dict[str, Any] = {"customer": d["cust"]["code"], "channel": d["channel"].value, "type": d["type"],
                                   "priority": cls.priority.value, "total": str(Decimal(d["total_cents"]) / 100),
                                   "lines": len(d["lines"]), "state": "queued"}
        if dec.queue_reason:
            created["queue_reason"] = dec.queue_reason
        if dec.hold:
            created.update(state="on_hold", hold={"reason": dec.hold.reason.value, "note": dec.hold.note})
        later: list[tuple[float, str, str, dict]] = []
        due, paused = received + (ts(dec.due) - now_s), 0.0
        hold = claim = released = cancelled = None
        lease = shipped_at = closed_at = None
        if dec.straight:
            later.append((received, "system", "auto_release", {"state": "released", "straight_through": True,
                                                                "stock": {s: -q for s, q in d["needs"].items()}}))
            state, released = "released", (received, "system")
        else:
            assert job is not None
            later, state, due, paused = job.events, job.state, job.due, job.paused_s
            hold, claim, released, cancelled = job.hold, job.claim, job.released, job.cancelled
            self.ticks.extend((oid, step, rep, at) for step, rep, at in job.ticks)
            if claim:
                lease = now_s + rules.lease.total_seconds()
                next(e for e in reversed(later) if e[2] == "claim")[3]["lease_expires_at"] = lease
        ship_h, close_h, closes = after.uniform(0.25, 3), after.uniform(1, 12), after.random() < 0.5  # drawn for all
        if released is not None:  # the warehouse ships in desk hours, and closes a while after
            # on the desk-hours axis: a web order in at night counts from the desk day it was drawn in
            u_ship = (u if dec.straight else axis.u(released[0])) + 3600 * ship_h
            u_close = u_ship + 3600 * close_h
            if u_ship <= 0:
                shipped_at = axis.at(u_ship)
                later.append((shipped_at, "warehouse", "ship", {"state": "shipped"}))
                state = "shipped"
                if u_close <= 0 and closes:
                    closed_at = axis.at(u_close)
                    later.append((closed_at, "warehouse", "close", {"state": "closed"}))
                    state = "closed"
        head, created["header"] = self.book.header(d["cust"], d["channel"].value, received)
        self.orders.append([
            oid, number, d["cust"]["id"], d["channel"].value, d["type"], state, cls.priority.value, cls.priority.level,
            cls.source, d["tier"].rank, received, due, paused, hold and hold[0], hold and hold[1], hold and hold[2],
            d["total_cents"], claim and claim[0], claim and claim[1], claim and claim[2], lease,
            released and released[0], released and released[1], shipped_at, closed_at,
            cancelled and cancelled[0], cancelled and cancelled[1], int(dec.straight), dec.queue_reason,
            actor, received, now_s, *head.values(),
        ])
        self.lines.extend((oid, *ln) for ln in d["lines"])
        if d["shipping"]:
            self.charges.append((oid, "SHIP", "shipping", "Delivery", d["shipping"]))
        self._created.append((received, actor, number, created))
        released_u = None if released is None else u if dec.straight else axis.u(released[0])
        self.taken.append(Taken(oid, state, released_u, d["lines"], later, ship_complete))

    def write(self, c: dbapi.Connection, ev: _Events, stock: dict[str, int]) -> None:
        for row, t, (received, actor, number, created) in zip(self.orders, self.taken, self._created):
            if t.state == "backordered":  # shipped in part: not shipped until the rest has
                row[_STATE], row[_SHIPPED_AT] = t.state, None
            ev.add(received, actor, "order", t.oid, number, "created", created)
            for at, who, action, data in t.events:
                ev.add(at, who, "order", t.oid, number, action, data)
        if self.orders:
            c.executemany(
                f"""INSERT INTO orders (id, number, customer_id, channel, type, state, priority, priority_level,
                     priority_source, tier_rank, received_at, due_at, paused_s, hold_reason, hold_note, hold_started_at,
                     total_cents, claimed_by, claim_token, claimed_at, lease_expires_at, released_at, released_by,
                     shipped_at, closed_at, cancelled_at, cancel_reason, straight_through, queue_reason,
                     created_by, created_at, updated_at, {HEADER_SQL_COLUMNS})
                   VALUES ({','.join('?' * len(self.orders[0]))})""",
                self.orders,
            )
        c.executemany(
            """INSERT INTO order_lines (order_id, line_no, sku, description, qty, unit_price_e4, discount_e2, amount_cents)
               VALUES (?,?,?,?,?,?,?,?)""",
            self.lines,
        )
        # released demo orders took their stock whole, shipped ones shipped whole; backorders in part
        c.execute("""UPDATE order_lines SET qty_allocated = qty,
                       qty_shipped = CASE WHEN o.state IN ('shipped','closed') THEN qty ELSE 0 END
                     FROM orders o WHERE o.id = order_lines.order_id AND o.id >= ?
                       AND o.state IN ('released','shipped','closed')""",
                  (self.orders[0][0] if self.orders else 0,))
        c.executemany("UPDATE order_lines SET qty_allocated = ?, qty_shipped = ? WHERE order_id = ? AND line_no = ?",
                      [(n, n, t.oid, no) for t in self.taken if t.state == "backordered" for no, n in t.allocated.items()])
        c.executemany("INSERT INTO order_charges (order_id, code, kind, description, amount_cents) VALUES (?,?,?,?,?)",
                      self.charges)
        c.executemany("INSERT INTO order_ticks (order_id, step, ticked_by, ticked_at) VALUES (?,?,?,?)", self.ticks)
        c.executemany("UPDATE products SET stock = ? WHERE sku = ?", [(q, s) for s, q in stock.items()])
        # events in time order (stable: an order's own events keep their order), so the log reads like the days
        ev.rows.sort(key=lambda r: r[0])
        append_many(c, ev.rows)


from db.demo_returns import generate_returns  # noqa: E402,F401
