"""What the demo's orders are, drawn from a seeded random source: channel, type, lines, service time, the
rep's plan (release, hold, cancel), and when each arrives (a steady stream and a rush just before now).
No SQL and no clock here: `db.demo` turns the drawn orders into rows at the times the desk simulation
(`db.demo_desk`) gives them, so the same seed draws the same desk whatever the hour.
"""
from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from core.enums import Channel, Tier
from core.money import line_amount, to_cents_int
from db import dbapi

HOLD_SHARE = 0.06     # orders a rep puts on hold while working them
CANCEL_SHARE = 0.02   # orders the customer cancels while a rep works them
NIGHT_SHARE = 0.3     # straight-through web and EDI orders that arrive while the desk is closed
SURGE_BASE, SURGE_MAX = 60, 120   # orders in the rush just before now ...
SURGE_MINUTES = 10                # ... which came in over this many desk minutes

_CHANNELS = [("online", 35), ("edi", 15), ("phone", 25), ("email", 14), ("fax", 5), ("walk_in", 6)]
_TYPES = [("standard", 58), ("rush", 9), ("change", 9), ("custom", 8), ("backorder", 9), ("quote", 7)]
_RUSH_CHANNELS = [("email", 50), ("phone", 35), ("fax", 15)]
_RUSH_TYPES = [("standard", 60), ("custom", 10), ("backorder", 15), ("quote", 15)]
_HOLDS = [("customer_info", 35), ("pricing", 20), ("customer_request", 25), ("stock", 20)]


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def draw_orders(rng: random.Random, rules: Any, customers: list[dbapi.Row], products: list[dict],
                 n: int, rush: int) -> list[dict]:
    """Everything about each order that does not depend on when it arrives, drawn in one fixed
    sequence (so the history is the same whatever the clock says). The last `rush` orders are the
    batch of routine work that has just come in (P3 and P4 from email, phone and fax)."""
    active = [p for p in products if p["active"]]
    routine = [c for c in customers if c["tier"] != Tier.KEY_ACCOUNT.value] or customers
    out = []
    for i in range(n):
        batch = i >= n - rush
        cust = rng.choice(routine if batch else customers)
        tier = Tier(cust["tier"])
        channel = Channel(pick(rng, _RUSH_CHANNELS if batch else _CHANNELS))
        otype = pick(rng, _RUSH_TYPES if batch else _TYPES)
        if otype not in rules.request_types:
            otype = next(iter(rules.request_types))
        nlines = rng.choices([1, 2, 3, 4, 5, 6], weights=[25, 25, 20, 15, 10, 5])[0]
        chosen = rng.sample(active if rng.random() > 0.02 else products, nlines)
        lines, needs, total_cents = [], defaultdict(int), 0
        for i, p in enumerate(chosen, start=1):
            qty = rng.choice([1, 1, 2, 3, 5, 10, 12, 24, 50]) if rng.random() > 0.01 else 1500
            disc = rng.choice([0, 0, 0, 0, 5, 10]) if tier != Tier.STANDARD else 0
            amt = to_cents_int(line_amount(qty, Decimal(p["price_e4"]) / 10000, Decimal(disc)))
            total_cents += amt
            needs[p["sku"]] += qty
            lines.append((i, p["sku"], p["description"], qty, p["price_e4"], disc * 100, amt))
        shipping = 0
        if channel in (Channel.ONLINE, Channel.PHONE) and total_cents < 50000:
            shipping = rng.choice([495, 695, 995])
            total_cents += shipping
        steps = list(rules.request_types[otype].checklist)
        service = min(2700.0, max(60.0, (120 + 90 * len(steps)) * rng.lognormvariate(0, 0.4)))
        r = rng.random()
        plan = "hold" if r < HOLD_SHARE else "cancel" if r < HOLD_SHARE + CANCEL_SHARE else "release"
        out.append({"cust": cust, "tier": tier, "channel": channel, "type": otype, "lines": lines, "needs": needs,
                    "total_cents": total_cents, "shipping": shipping, "steps": steps, "service": service,
                    "plan": plan, "hold_reason": pick(rng, _HOLDS),
                    "cancel_reason": rng.choice(["customer cancelled by phone", "duplicate order",
                                                 "price disagreement"]),
                    "night": rng.random() < NIGHT_SHARE, "night_at": rng.random()})
    return out


def surge_size(n: int) -> int:
    """The routine batch: 60 orders and one per hundred, at most 120, never more than a third of them."""
    return min(n // 3, SURGE_MAX, SURGE_BASE + n // 100)


def arrival_offsets(rng: random.Random, n: int) -> list[tuple[float, float]]:
    """When each order arrives, as (share of the demo's span, desk seconds) back from now: a steady
    stream over the span, and a rush in the last SURGE_MINUTES that the team has not caught up with
    yet (the queue a new user sees). Measured back from now, never from the time of day, so the
    desk is the same whatever hour it is made at."""
    surge = surge_size(n)
    return ([(rng.random(), 0.0) for _ in range(n - surge)]
            + [(0.0, SURGE_MINUTES * 60 * rng.random()) for _ in range(surge)])
