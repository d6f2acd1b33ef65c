"""Demo returns: RMAs in every state against the demo's shipped orders, made through the service layer.

Each return is driven by the real commands (carol works, sam approves), with the store's clock set
back to plausible moments between shipment and now, so the state, stock and money agree with the
events exactly as on a lived-in database and `orderq check` holds. Those moments are in the rules' desk
hours, measured on the open-time axis like the orders' (`core.open_time`, `db.demo_desk`), so the same seed gives the same
returns whatever hour the demo is made at; the replacement order an exchange opens is worked by sam
soon after, as the desk would, instead of waiting in the queue.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from core.errors import OrderqError
from core.open_time import OpenTimeline
from db.connection import StoreError
from db.convert import dt
from db.service import Desk
from db.service.returns import ReturnLineInput
from db.store import Store

#: target state -> weight
_TARGETS = [("requested", 16), ("pending_approval", 10), ("authorized", 14), ("received", 12), ("inspected", 10),
            ("resolved", 18), ("closed", 14), ("rejected", 6)]
_FAULT = ["damaged", "defective", "wrong_item", "not_as_described"]
_OTHER = ["no_longer_needed", "no_longer_needed", "arrived_late", "other"]
_STEPS = ["authorize", "receive", "inspect", "resolve", "close"]
_UPTO = {"requested": 0, "pending_approval": 0, "authorized": 1, "received": 2, "inspected": 3, "resolved": 4,
         "closed": 5, "rejected": 0}


def generate_returns(store: Store, *, returns: int, seed: int) -> dict:
    rng = random.Random(seed * 7919 + 4)
    real_clock = store.clock
    now = store.now()
    axis = OpenTimeline(store.rules.calendar, now.timestamp())
    u_now = 0.0
    carol = Desk.for_user(store, "carol")
    sam = Desk.for_user(store, "sam")
    conn = store.conn
    shipped = conn.execute(
        """SELECT o.id, o.number, o.shipped_at, o.customer_id FROM orders o
           WHERE o.state IN ('shipped','closed') AND o.shipped_at IS NOT NULL ORDER BY o.id""").fetchall()
    made: Counter[str] = Counter()
    t = [now]
    u = [u_now]  # the clock as desk seconds; t follows it

    def at(v: float) -> None:
        u[0] = v
        t[0] = dt(axis.at(v))

    def later(seconds: float) -> None:
        at(u[0] + seconds)

    store.clock = lambda: t[0]
    try:
        pool = list(shipped)
        rng.shuffle(pool)
        for k in range(returns):
            if not pool:
                break
            # every state first (a return that did not fit is tried again with the next order), then the weights
            missing = [x[0] for x in _TARGETS if not made[x[0]]]
            target = (missing[0] if missing and k < 3 * len(_TARGETS)
                      else rng.choices([x[0] for x in _TARGETS], weights=[x[1] for x in _TARGETS])[0])
            o = pool.pop()
            if target == "pending_approval":  # needs a line worth more than the approval threshold
                for j in range(len(pool) - 1, -1, -1):
                    if conn.execute("SELECT 1 FROM order_lines WHERE order_id = ? AND qty_returned = 0"
                                    " AND amount_cents > 60000", (pool[j]["id"],)).fetchone():
                        pool.append(o)
                        o = pool.pop(j)
                        break
            lines = conn.execute("SELECT sku, qty, qty_returned, amount_cents FROM order_lines WHERE order_id = ?"
                                 " AND qty_returned < qty ORDER BY line_no", (o["id"],)).fetchall()
            if not lines:
                continue
            u_ship = axis.u(o["shipped_at"])
            span = max(60.0, u_now - u_ship)
            at(u_ship + span * rng.uniform(0.1, 0.35))
            fault = rng.random() < 0.6
            if target == "pending_approval":
                big = [ln for ln in lines if ln["amount_cents"] > 60000]
                chosen = [big[0]] if big else [lines[0]]
                reqs = [ReturnLineInput(sku=ln["sku"], qty=ln["qty"] - ln["qty_returned"], reason="defective")
                        for ln in chosen]
            else:
                chosen = rng.sample(lines, rng.randint(1, min(2, len(lines))))
                reqs = []
                for ln in chosen:
                    left = ln["qty"] - ln["qty_returned"]
                    reason = rng.choice(_FAULT if fault else _OTHER)
                    reqs.append(ReturnLineInput(sku=ln["sku"], qty=rng.randint(1, min(left, 3)), reason=reason,
                                                opened=rng.random() < 0.7))
            resolution = rng.choices(["refund", "store_credit", "exchange"], weights=[60, 25, 15])[0]
            note = "customer email: details on file" if any(r.reason == "other" for r in reqs) else None
            try:
                d = carol.returns.new(lines=reqs, resolution=resolution, orders=[o["number"]], note=note)
                number = d["number"]
                step = span * 0.08
                if d["state"] == "pending_approval":
                    if target == "pending_approval":
                        made[d["state"]] += 1
                        continue
                    later(step)
                    if target == "rejected":
                        sam.returns.reject(number, "outside policy: customer told by phone")
                        made["rejected"] += 1
                        continue
                    state = sam.returns.approve(number, "agreed with the customer")["state"]
                    start = 1
                else:
                    state, start = d["state"], 0
                if target == "rejected":
                    later(step)
                    carol.returns.reject(number, rng.choice(["no proof of purchase", "item not from us",
                                                             "customer withdrew the request"]))
                    made["rejected"] += 1
                    continue
                for action in _STEPS[start:_UPTO.get(target, 0)]:
                    later(step * rng.uniform(0.5, 1.5))
                    if action == "authorize":
                        state = carol.returns.authorize(number)["state"]
                    elif action == "receive":
                        short = {}
                        if rng.random() < 0.15 and reqs[0].qty > 1:
                            short = {"#1": reqs[0].qty - 1}
                        state = carol.returns.receive(number, short)["state"]
                    elif action == "inspect":
                        grade = rng.choice(["new", "like_new", "damaged", "defective"])
                        disp = {"new": "restock", "like_new": "restock", "damaged": "refurbish",
                                "defective": rng.choice(["scrap", "return_to_vendor"])}[grade]
                        state = carol.returns.inspect(number, default=(grade, disp))["state"]
                    elif action == "resolve":
                        state = carol.returns.resolve(number)["state"]
                        _work_exchange(store, sam, number, rng, u, axis, at)
                    elif action == "close":
                        state = carol.returns.close(number)["state"]
                made[state] += 1
            except StoreError:
                raise  # a full disk or a busy database is not a policy refusal: the caller says what was kept
            except OrderqError:
                continue  # a demo order that does not fit the policy is simply skipped
        # a few open returns are being worked right now: two minutes ago on the wall clock, since a lease
        # runs on it (two desk minutes before an evening's "now" is just before closing, long lapsed)
        t[0] = now - timedelta(seconds=120)
        for _ in range(min(2, made["authorized"] + made["requested"])):
            if carol.returns.claim_next() is None:
                break
    finally:
        store.clock = real_clock
    return dict(sorted(made.items()))


def _work_exchange(store: Store, sam: Desk, rma: str, rng: random.Random, u: list[float], axis: OpenTimeline,
                   at: Callable[[float], None]) -> None:
    """The supervisor sends out the replacement an exchange opened, 5–20 desk minutes later, if
    that is done by now; the clock is put back where the return's story was."""
    row = store.conn.execute("SELECT o.number, o.type FROM returns r JOIN orders o ON o.id = r.exchange_order_id"
                             " WHERE r.number = ?", (rma,)).fetchone()
    start, handling = u[0] + 60 * rng.uniform(5, 20), 60 * rng.uniform(3, 8)
    _opened, closes = axis.stretch(start)
    if start + handling > closes:  # not started just before closing: at the next opening
        start = closes + 1.0
    if row is None or start + handling > 0:
        return
    back = u[0]
    steps = store.rules.request_types[row["type"]].checklist
    try:
        at(start)
        token = sam.orders.claim(row["number"]).claim_token
        for i, step in enumerate(steps, start=1):
            at(start + handling * i / (len(steps) + 1))
            sam.orders.tick(row["number"], step, token=token)
        at(start + handling)
        sam.orders.release(row["number"], token=token)
    except StoreError:
        raise
    except OrderqError:
        pass  # a replacement on hold (stock, credit) waits for the desk like any other order
    finally:
        at(back)
