"""The writer behind bench_fanout: other people's work, through the service layer, at a set rate.

argv: DB KIND CHANGES RATE SEED PROBE_USERS (comma-separated reps; each claims once, so its name is
a marker nobody else has drawn). KIND:
- `mix`: what a desk does: claims near the top, ticks, releases, holds and unholds, gives back,
  a supervisor's due overrides anywhere in the queue and force-releases, straight-through intake;
- `quiet`: changes no session shows: due overrides deep in the queue that stay deep, and
  straight-through EDI intake (released at once, so never in the open-work view);
- `visible`: claims at the top and their give-backs and releases.

Every command is one change (one transaction). As it goes it prints, one JSON line each:
{"probe": "claim"|"free", "marker": user, "number": order, "t": epoch after the commit}; at the end
{"changes": n, "t0": …, "t1": …}.
"""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.errors import OrderqError
from db.service import Desk
from db.service.orders import LineInput

SHOWN_S = 1.0
DEEP = 80  # a quiet override moves an order that sits below this rank and keeps it there


def add_probe_reps(db: str | Path, n: int) -> list[str]:
    """Reps zq000, zq001, …: each claims once, so its name on a screen marks that one change."""
    admin = Desk.open(db, "admin")
    names = [f"zq{i:03d}" for i in range(n)]
    for name in names:
        admin.users.add(name, "rep")
    admin.store.close()
    return names


def add_phone_orders(db: str | Path, n: int) -> None:
    """A morning's phone orders, queued for a rep (due later than the demo's: deep in the queue)."""
    sup = Desk.open(db, "sam")
    c = sup.store.conn
    customers = [r[0] for r in c.execute("SELECT code FROM customers ORDER BY id")]
    skus = [r[0] for r in c.execute("SELECT sku FROM products WHERE active = 1 AND stock > 1000 ORDER BY sku")]
    for i in range(n):
        sup.orders.create(customer=customers[i % len(customers)], channel="phone", type="standard", typed=False,
                          lines=[LineInput(skus[(i * 7) % len(skus)], 1 + i % 4)])
    sup.store.close()


def say(**kw: object) -> None:
    print(json.dumps(kw), flush=True)


class Writer:
    def __init__(self, db: str, seed: int, probes: list[str]) -> None:
        self.db = db
        self.rng = random.Random(seed)
        self.sup = Desk.open(db, "sam")
        self.probes = list(probes)
        self.held: list[tuple[Desk, str, str]] = []  # (desk, number, token) of probe claims in flight
        self.on_hold: list[str] = []
        self.since: dict[str, float] = {}  # number -> when its probe claim committed
        c = self.sup.store.conn
        self.edi_customer = c.execute("SELECT code FROM customers WHERE known = 1 ORDER BY id LIMIT 1").fetchone()[0]
        self.skus = [r[0] for r in c.execute("SELECT sku FROM products WHERE active = 1 AND stock > 1000 ORDER BY sku LIMIT 20")]

    def open_numbers(self, deep: bool) -> list[str]:
        c = self.sup.store.conn
        rows = c.execute("SELECT number FROM orders WHERE state IN ('queued','in_progress','on_hold')"
                         " ORDER BY due_at, priority_level, tier_rank, total_cents DESC, id").fetchall()
        rows = rows[DEEP:] if deep else rows
        return [r[0] for r in rows]

    # ---- the commands -------------------------------------------------------------------
    def claim(self) -> bool:
        if not self.probes or len(self.held) >= 3:
            return False
        user = self.probes.pop(0)
        desk = Desk.open(self.db, user)
        got = desk.orders.claim_next()
        if got is None:
            return False
        self.since[got.number] = time.time()
        say(probe="claim", marker=user, number=got.number, t=self.since[got.number])
        self.held.append((desk, got.number, got.claim_token))
        return True

    def tick(self) -> bool:
        if not self.held:
            return False
        desk, number, token = self.rng.choice(self.held)
        order = desk.orders.get(number)
        todo = [s for s in order.checklist if s not in order.ticked]
        if not todo:
            return time.time() - self.since[number] >= SHOWN_S and self.release(number)
        desk.orders.tick(number, todo[0], token=token)
        return True

    def _take(self, number: str | None = None) -> tuple[Desk, str, str] | None:
        """A claim to end: `number`'s, else the oldest one shown for SHOWN_S at least (a claim
        ended sooner may never be drawn: sessions coalesce, and the probe would count as missed)."""
        if number:
            item = next((h for h in self.held if h[1] == number), None)
        else:
            item = next((h for h in self.held if time.time() - self.since[h[1]] >= SHOWN_S), None)
        if item is not None:
            self.held.remove(item)
        return item

    def release(self, number: str | None = None) -> bool:
        item = self._take(number)
        if item is None:
            return False
        desk, number, token = item
        try:
            desk.orders.release(number, token=token)
        except OrderqError:
            desk.orders.unclaim(number, token)
        return True

    def give_back(self) -> bool:
        item = self._take()
        if item is None:
            return False
        desk, number, token = item
        desk.orders.unclaim(number, token)
        return True

    def hold(self) -> bool:
        item = self._take()
        if item is None:
            return False
        desk, number, token = item
        desk.orders.hold(number, "stock", "bench: waiting on stock", token=token)
        self.on_hold.append(number)
        return True

    def unhold(self) -> bool:
        if not self.on_hold:
            return False
        self.sup.orders.unhold(self.on_hold.pop(0), "bench: stock arrived")
        return True

    def force_release(self) -> bool:
        item = self._take()
        if item is None:
            return False
        desk, number, _token = item
        marker = desk.actor.name
        self.sup.orders.force_release(number, "bench: supervisor frees it")
        say(probe="free", marker=marker, number=number, t=time.time())
        return True

    def override(self, deep: bool) -> bool:
        numbers = self.open_numbers(deep)
        if not numbers:
            return False
        # where it lands is a place in the queue, not a time from now: due times count open time, so
        # after hours "now + 10 h" is before every order due tomorrow, and every override would land
        # at the top; `deep`: after the order now at rank DEEP; else next to any open order
        anchor = numbers[0] if deep else self.rng.choice(numbers)
        at = self.sup.store.conn.execute("SELECT due_at FROM orders WHERE number = ?", (anchor,)).fetchone()[0]
        due = datetime.fromtimestamp(at, timezone.utc) + timedelta(minutes=self.rng.randint(1, 600) if deep else
                                                                   self.rng.randint(-30, 30))
        self.sup.orders.override(self.rng.choice(numbers), reason="bench", due_at=max(due, self.sup.now()))
        return True

    def intake(self) -> bool:
        lines = [LineInput(self.rng.choice(self.skus), self.rng.randint(1, 3))]
        self.sup.orders.create(customer=self.edi_customer, channel="edi", type="standard", lines=lines, typed=False)
        return True

    # ---- the mixes ------------------------------------------------------------------------
    def step(self, kind: str) -> bool:
        if kind == "quiet":
            return self.override(deep=True) if self.rng.random() < 0.6 else self.intake()
        if kind == "visible":
            return self.claim() or (self.release() if self.rng.random() < 0.5 else self.give_back())
        r = self.rng.random()
        if r < 0.25:
            return self.claim() or self.tick()
        if r < 0.50:
            return self.tick() or self.claim()
        if r < 0.55:
            return self.release() or self.claim()
        if r < 0.60:
            return self.hold() or self.claim()
        if r < 0.63:
            return self.unhold() or self.intake()
        if r < 0.66:
            return self.force_release() or self.claim()
        if r < 0.69:
            return self.give_back() or self.claim()
        if r < 0.88:
            return self.override(deep=False)
        return self.intake()

    def finish(self) -> int:
        """Give back what is still held, so the next phase starts from the same kind of desk
        (changes too: the sessions draw them)."""
        n = 0
        for desk, number, token in self.held:
            try:
                desk.orders.unclaim(number, token)
                n += 1
            except OrderqError:
                pass
        self.held.clear()
        return n


def main(argv: list[str]) -> int:
    db, kind, changes, rate, seed, probes = argv[0], argv[1], int(argv[2]), float(argv[3]), int(argv[4]), argv[5]
    w = Writer(db, seed, [p for p in probes.split(",") if p])
    gap = 1.0 / rate
    done = 0
    t0 = time.time()
    nxt = time.monotonic()
    misses = 0
    while done < changes and misses < changes * 5:
        nxt += gap * (0.5 + w.rng.random())  # on average `rate` a second, never in step with a poll
        time.sleep(max(0.0, nxt - time.monotonic()))
        try:
            ok = w.step(kind)
        except OrderqError:
            ok = False
        if ok:
            done += 1
        else:
            misses += 1
            nxt -= gap  # a command that did nothing does not use up a slot
    done += w.finish()
    say(changes=done, t0=t0, t1=time.time())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
