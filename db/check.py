"""`orderq check`: the database agrees with itself and with its event log.

Each check returns the problems it found (empty: it holds). Current state is kept in ordinary
tables and every change is an event in the same transaction, so the two can be compared.
"""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.money import from_cents_int, from_price_int, line_amount, to_cents_int
from db import dialect, events
from db.check_audit import AUDIT_CHECKS
from db.check_headers import HEADER_CHECKS
from db.check_returns import RETURN_CHECKS

MAX_LISTED = 10


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "problems": self.problems[:MAX_LISTED],
                "problem_count": len(self.problems)}


def integrity(conn: sqlite3.Connection) -> list[str]:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    out = [] if rows == ["ok"] else rows
    out += [f"foreign key broken: {tuple(r)}" for r in fk]
    return out


def claims_consistent(conn: sqlite3.Connection) -> list[str]:
    """Replay claim events: never two live claims on one item, and live claims match the rows."""
    live: dict[tuple[str, int], str] = {}
    problems: list[str] = []
    for ev in conn.execute(
        "SELECT id, entity, entity_id, ref, data FROM events WHERE entity IN ('order','return')"
        " AND data LIKE '%\"claim\"%' ORDER BY id"
    ):
        data = json.loads(ev["data"])
        kind = data.get("claim")
        key = (ev["entity"], ev["entity_id"])
        if kind == "acquire":
            if key in live:
                problems.append(f"{ev['entity']} {ev['ref']}: claimed again at event {ev['id']} while claim "
                                f"{live[key]} was live (double claim)")
            live[key] = data.get("token")
        elif kind == "drop":
            if live.get(key) != data.get("token"):
                problems.append(f"{ev['entity']} {ev['ref']}: event {ev['id']} ends claim {data.get('token')} "
                                f"that was not live")
            live.pop(key, None)
        elif kind == "transfer":
            if live.get(key) != data.get("was"):
                problems.append(f"{ev['entity']} {ev['ref']}: event {ev['id']} takes over claim {data.get('was')} "
                                f"that was not live")
            live[key] = data.get("token")
    for table, entity in (("orders", "order"), ("returns", "return")):
        for r in conn.execute(f"SELECT id, number, claim_token FROM {table} WHERE claimed_by IS NOT NULL"):
            if live.get((entity, r["id"])) != r["claim_token"]:
                problems.append(f"{entity} {r['number']}: held under token {r['claim_token']} "
                                "that no claim event issued")
            live.pop((entity, r["id"]), None)
    for (entity, _id), tok in live.items():
        problems.append(f"{entity} id {_id}: the log says claim {tok} is live but the row is unclaimed")
    return problems


def states_agree(conn: sqlite3.Connection) -> list[str]:
    """The latest state each entity's events record equals the state in its row."""
    problems = []
    state = dialect.of(conn).json_text("e.data", "state")
    for table, entity in (("orders", "order"), ("returns", "return")):
        rows = conn.execute(
            f"""SELECT t.number, t.state, (
                    SELECT {state} FROM events e
                    WHERE e.entity = ? AND e.entity_id = t.id AND {state} IS NOT NULL
                    ORDER BY e.id DESC LIMIT 1) AS logged
                FROM {table} t""",
            (entity,),
        )
        for r in rows:
            if r["logged"] != r["state"]:
                problems.append(f"{entity} {r['number']}: state is {r['state']} but its events say {r['logged']}")
    return problems


def stock_agrees(conn: sqlite3.Connection) -> list[str]:
    """Stock is never negative and equals the sum of the stock moves in the log."""
    problems = [f"product {r['sku']}: stock is negative ({r['stock']})"
                for r in conn.execute("SELECT sku, stock FROM products WHERE stock < 0")]
    moved: dict[str, int] = defaultdict(int)
    for r in conn.execute(
        f"SELECT j.key AS sku, SUM(CAST(j.value AS INTEGER)) AS delta FROM events e, {dialect.of(conn).json_each('e.data', 'stock')} j"
        " WHERE e.data LIKE '%\"stock\"%' GROUP BY j.key"
    ):
        moved[r["sku"]] = int(r["delta"])
    for r in conn.execute("SELECT sku, stock FROM products"):
        if moved.get(r["sku"], 0) != r["stock"]:
            problems.append(f"product {r['sku']}: stock {r['stock']} but the log moves {moved.get(r['sku'], 0)}")
    return problems


def money_agrees(conn: sqlite3.Connection) -> list[str]:
    """Each line's amount follows from qty × price × (1 − discount), and totals are their sums."""
    problems = []
    for r in conn.execute("SELECT o.number, l.line_no, l.qty, l.unit_price_e4, l.discount_e2, l.amount_cents "
                          "FROM order_lines l JOIN orders o ON o.id = l.order_id"):
        want = to_cents_int(line_amount(r["qty"], from_price_int(r["unit_price_e4"]), from_cents_int(r["discount_e2"])))
        if want != r["amount_cents"]:
            problems.append(f"order {r['number']} line {r['line_no']}: amount {r['amount_cents']}¢, should be {want}¢")
    for r in conn.execute(
        """SELECT o.number, o.total_cents,
                  COALESCE((SELECT SUM(amount_cents) FROM order_lines WHERE order_id = o.id), 0)
                + COALESCE((SELECT SUM(amount_cents) FROM order_charges WHERE order_id = o.id), 0) AS summed
           FROM orders o"""
    ):
        if r["total_cents"] != r["summed"]:
            problems.append(f"order {r['number']}: total {from_cents_int(r['total_cents'])} but lines and charges "
                            f"sum to {from_cents_int(r['summed'])}")
    for r in conn.execute(
        """SELECT r.number, r.refund_cents, r.state,
                  COALESCE((SELECT SUM(refund_cents) FROM return_lines WHERE return_id = r.id), 0)
                  - r.fee_cents + r.shipping_refund_cents AS summed
           FROM returns r WHERE r.state IN ('resolved','closed')"""
    ):
        if r["refund_cents"] != r["summed"]:
            problems.append(f"return {r['number']}: refund {from_cents_int(r['refund_cents'])} but its lines give "
                            f"{from_cents_int(r['summed'])}")
    return problems


def returned_within_shipped(conn: sqlite3.Connection) -> list[str]:
    return [
        f"order {r['number']} line {r['line_no']}: {r['ret']} returned of {r['shipped']} shipped"
        for r in conn.execute(
            """SELECT o.number, l.line_no, l.qty_shipped AS shipped, l.qty_returned AS ret FROM order_lines l
               JOIN orders o ON o.id = l.order_id WHERE l.qty_returned > l.qty_shipped OR l.qty_returned < 0"""
        )
    ]


def shipped_within_ordered(conn: sqlite3.Connection) -> list[str]:
    """Per line 0 ≤ shipped ≤ allocated ≤ ordered, and the order's state says how much shipped:
    `shipped`/`closed` only when every line has, `backordered` when some has and some has not,
    nothing before release. A line's shipped count also equals what its ship events record
    (orders that arrived shipped from an import or the demo record no lines: they shipped whole)."""
    problems = [
        f"order {r['number']} line {r['line_no']}: {r['shipped']} shipped, {r['alloc']} set aside, of {r['qty']} ordered"
        for r in conn.execute(
            """SELECT o.number, l.line_no, l.qty, l.qty_shipped AS shipped, l.qty_allocated AS alloc
               FROM order_lines l JOIN orders o ON o.id = l.order_id
               WHERE NOT (0 <= l.qty_shipped AND l.qty_shipped <= l.qty_allocated AND l.qty_allocated <= l.qty)""")
    ]
    want = {"shipped": "all", "closed": "all", "backordered": "part", "queued": "none", "in_progress": "none",
            "on_hold": "none", "released": "none"}
    for r in conn.execute(
        """SELECT o.number, o.state, SUM(l.qty_shipped) AS shipped, SUM(l.qty) AS qty FROM orders o
           JOIN order_lines l ON l.order_id = o.id GROUP BY o.id"""
    ):
        got = "all" if r["shipped"] == r["qty"] else "none" if r["shipped"] == 0 else "part"
        if want.get(r["state"], got) != got:
            problems.append(f"order {r['number']}: {r['state']} but {r['shipped']} of {r['qty']} units shipped")
    logged: dict[tuple[str, str], int] = defaultdict(int)
    for r in conn.execute(
        f"""SELECT e.ref, j.key AS line_no, SUM(CAST(j.value AS INTEGER)) AS n FROM events e, {dialect.of(conn).json_each('e.data', 'shipped')} j
           WHERE e.entity = 'order' AND e.action = 'ship' AND {events.by_action('e')} GROUP BY e.ref, j.key"""
    ):
        logged[(r["ref"], str(r["line_no"]))] = int(r["n"])
    itemised = {ref for ref, _ in logged}
    for r in conn.execute("SELECT o.number, l.line_no, l.qty_shipped FROM order_lines l JOIN orders o ON o.id = l.order_id"
                          " WHERE o.number IN (SELECT ref FROM events WHERE entity = 'order' AND action = 'ship'"
                          f" AND {events.by_action()}"
                          " AND data LIKE '%\"shipped\"%')"):
        if r["number"] in itemised and logged.get((r["number"], str(r["line_no"])), 0) != r["qty_shipped"]:
            problems.append(f"order {r['number']} line {r['line_no']}: {r['qty_shipped']} shipped but its ship events "
                            f"record {logged.get((r['number'], str(r['line_no'])), 0)}")
    return problems


CHECKS: list[tuple[str, Callable[[sqlite3.Connection], list[str]]]] = [
    ("integrity_check", integrity),
    ("no double claims", claims_consistent),
    ("state agrees with events", states_agree),
    ("stock never negative and agrees with events", stock_agrees),
    ("money sums agree", money_agrees),
    ("returns within shipped", returned_within_shipped),
    ("shipped within ordered, and agrees with state and events", shipped_within_ordered),
    *HEADER_CHECKS,  # the order header's ship-to, bill-to and contact snapshots
    *RETURN_CHECKS,  # returns' own invariants
    *AUDIT_CHECKS,  # the event log is untouched: hash chain and guard triggers
]


def run_checks(conn: sqlite3.Connection) -> list[CheckResult]:
    # one snapshot for every check, ended by ROLLBACK, not read_tx's COMMIT: it only read, and on a
    # damaged file a COMMIT fails after a check hit a bad page
    conn.execute("BEGIN")
    try:
        return [CheckResult(name, _unless_unreadable(fn, conn)) for name, fn in dialect.of(conn).checks(CHECKS)]
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _unless_unreadable(fn: Callable[[sqlite3.Connection], list[str]], conn: sqlite3.Connection) -> list[str]:
    """A check that cannot read the file (damaged pages, a missing table) FAILs with the reason,
    instead of ending `check` with a generic store error: on a corrupt file that FAIL is the report."""
    try:
        return fn(conn)
    except sqlite3.DatabaseError as e:
        if getattr(e, "sqlite_errorcode", 0) & 0xFF in _BUSY:
            raise
        return [f"cannot read the database: {e}"]
