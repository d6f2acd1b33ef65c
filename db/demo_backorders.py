"""The demo's backorders: a few orders that shipped in part and wait for stock for the rest.

Chosen after the desk has run, among orders that shipped and have two lines or more (never a "ship
complete only" customer's): for a product whose last taker by release time is such an order, that
order's line of it was released short — half its units set aside and shipped, the rest backordered —
because the product's opening stock was just what the orders took: its shelf is empty now. The opening
stock is lowered only by what no order ever took, so the stock never ran below zero at any moment of
the history, and the release, ship and stock_loaded events say exactly this (`orderq check`
holds). A rep then sees a backordered order whose remaining line is short, and `stock receive` for
that SKU returns it to work. No SQL here: `db.demo` writes what this decides.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

#: one demo order in every BACKORDER_EVERY ends backordered (at least two in any demo with products)
BACKORDER_EVERY = 120


@dataclass
class Taken:
    """One order's part in the history of the stock: when it took stock, and how much of each line."""

    oid: int
    state: str
    released_u: float | None           # when it took its stock, in open seconds (the same whatever hour)
    lines: list[tuple]                  # (line_no, sku, description, qty, price_e4, discount_e2, amount)
    events: list[tuple[float, str, str, dict]]
    ship_complete: bool
    allocated: dict[int, int] = field(default_factory=dict)   # line_no -> units set aside (set for backorders)


def choose(orders: list[Taken], opening: dict[str, int], rng: random.Random, count: int) -> dict[str, int]:
    """Turn up to `count` shipped orders into backorders (mutating their state, events and allocation);
    returns the opening stock per SKU lowered for them."""
    last: dict[str, Taken] = {}
    for t in orders:
        if t.released_u is None or t.state not in ("released", "shipped", "closed"):
            continue
        for ln in t.lines:
            cur = last.get(ln[1])
            if cur is None or (t.released_u, t.oid) > (cur.released_u, cur.oid):
                last[ln[1]] = t
    skus = sorted(last)
    rng.shuffle(skus)
    taken: dict[str, int] = {}
    for t in orders:
        if t.state in ("released", "shipped", "closed"):
            for ln in t.lines:
                taken[ln[1]] = taken.get(ln[1], 0) + ln[3]
    lowered = dict(opening)
    made = 0
    for sku in skus:
        if made >= count:
            break
        t = last[sku]
        if t.state != "shipped" or len(t.lines) < 2 or t.ship_complete or t.allocated:
            continue
        line = next(ln for ln in t.lines if ln[1] == sku)
        no, qty = line[0], line[3]
        part = qty // 2
        rest = qty - part
        if lowered[sku] - taken[sku] < 0:  # the history already ran it short: leave it be
            continue
        # the opening stock was just what the orders took: the last taker found only half its line left
        lowered[sku] = taken[sku] - rest
        t.allocated = {ln[0]: (part if ln[0] == no else ln[3]) for ln in t.lines}
        t.state = "backordered"
        _rewrite_events(t, sku, no, rest)
        made += 1
    return lowered


def _rewrite_events(t: Taken, sku: str, no: int, rest: int) -> None:
    """The release took only what was there, the shipment handed over what was set aside."""
    for i, (at, who, action, data) in enumerate(t.events):
        if action in ("release", "auto_release"):
            stock = dict(data.get("stock") or {})
            stock[sku] = stock.get(sku, 0) + rest
            if not stock[sku]:
                del stock[sku]
            t.events[i] = (at, who, action, {**data, "stock": stock, "backorder": {str(no): rest}})
        elif action == "ship":
            shipped = {str(n): u for n, u in sorted(t.allocated.items()) if u}
            t.events[i] = (at, who, action, {"state": "backordered", "shipped": shipped, "complete": False})
