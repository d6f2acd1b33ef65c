"""One torture worker: random valid commands through the service layer, forever, until killed.

    python -m tests.prove.torture_worker DB LOG USER SEED

Every command that returned without a refusal is appended to LOG as one JSON line, fsync'd
before the next command starts, so the test can check that each acknowledged command is in the
event log. Refusals (OrderqError: a lost claim, a conflict, an illegal transition, a busy
database) are expected under contention and are not logged. Anything else is a bug: the worker
prints it and exits 3.
"""
from __future__ import annotations

import json
import os
import random
import sys
import traceback
from datetime import timedelta

from core.errors import OrderqError
from db.service import Desk
from db.service.orders import LineInput
from db.service.returns import ReturnLineInput
from db.store import Store

HOLD_REASONS = ["customer_info", "pricing", "customer_request", "stock"]
RETURN_REASONS = ["damaged", "defective", "wrong_item", "not_as_described", "no_longer_needed", "arrived_late", "other"]
RESOLUTIONS = ["refund", "store_credit", "exchange"]
INSPECTIONS = [("like_new", "restock"), ("new", "restock"), ("damaged", "scrap"), ("defective", "return_to_vendor"),
               ("damaged", "refurbish")]


class Worker:
    def __init__(self, db: str, log_path: str, user: str, seed: int) -> None:
        self.rng = random.Random(seed)
        self.store = Store.open(db)
        self.desk = Desk.for_user(self.store, user)
        self.user = user
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        self.mine: dict[str, str] = {}  # number -> token of claims this process holds
        self.conn = self.store.conn
        self.sup = self.desk.actor.is_supervisor
        self.returns = getattr(self.desk, "returns", None)

    # -- acknowledgement log --------------------------------------------------------------
    def ack(self, action: str, number: str, **extra: object) -> None:
        self.log.write(json.dumps({"user": self.user, "action": action, "ref": number, **extra}) + "\n")
        self.log.flush()
        os.fsync(self.log.fileno())

    # -- picking targets (reads only; every write goes through the service layer) ---------
    def pick(self, where: str, *args: object) -> str | None:
        row = self.conn.execute(f"SELECT number FROM orders WHERE {where} ORDER BY random() LIMIT 1", args).fetchone()
        return row[0] if row else None

    def my_claim(self) -> tuple[str, str] | None:
        if not self.mine:
            return None
        number = self.rng.choice(sorted(self.mine))
        return number, self.mine[number]

    # -- commands --------------------------------------------------------------------------
    def c_claim(self) -> None:
        got = self.desk.orders.claim_next()
        if got is not None:
            self.mine[got.number] = got.claim_token
            self.ack("claim", got.number, token=got.claim_token)

    def c_claim_one(self) -> None:
        number = self.pick("state = 'queued' AND claimed_by IS NULL")
        if number:
            got = self.desk.orders.claim(number)
            self.mine[got.number] = got.claim_token
            self.ack("claim", got.number, token=got.claim_token)

    def c_tick(self) -> None:
        mc = self.my_claim()
        if not mc:
            return self.c_claim()
        number, token = mc
        o = self.desk.orders.get(number)
        todo = [s for s in o.checklist if s not in o.ticked]
        if todo:
            step = self.rng.choice(todo)
            self.desk.orders.tick(number, step, token=token)
            self.ack("tick", number, step=step)

    def c_work(self) -> None:
        """Tick everything left, then release: the happy path, one command at a time."""
        mc = self.my_claim()
        if not mc:
            return self.c_claim()
        number, token = mc
        o = self.desk.orders.get(number)
        for step in [s for s in o.checklist if s not in o.ticked]:
            self.desk.orders.tick(number, step, token=token)
            self.ack("tick", number, step=step)
        self.desk.orders.release(number, token=token)
        self.mine.pop(number, None)
        self.ack("release", number, token=token)

    def c_hold_mine(self) -> None:
        mc = self.my_claim()
        if not mc:
            return
        number, token = mc
        self.desk.orders.hold(number, self.rng.choice(HOLD_REASONS), "torture", token=token)
        self.mine.pop(number, None)
        self.ack("hold", number)

    def c_hold_queued(self) -> None:
        number = self.pick("state = 'queued' AND claimed_by IS NULL")
        if number:
            self.desk.orders.hold(number, self.rng.choice(HOLD_REASONS), "torture")
            self.ack("hold", number)

    def c_unhold(self) -> None:
        cond = "state = 'on_hold'" if self.sup else "state = 'on_hold' AND hold_reason != 'credit'"
        number = self.pick(cond)
        if number:
            self.desk.orders.unhold(number, "torture: resolved")
            self.ack("unhold", number)

    def c_unclaim(self) -> None:
        mc = self.my_claim()
        if mc:
            number, token = mc
            self.desk.orders.unclaim(number, token)
            self.mine.pop(number, None)
            self.ack("unclaim", number, token=token)

    def c_give_back(self) -> None:
        if self.mine:
            tokens = list(self.mine.values())
            n = self.desk.orders.give_back(tokens)
            self.mine.clear()
            self.ack("give_back", "", count=n)

    def c_renew(self) -> None:
        mc = self.my_claim()
        if mc:
            self.desk.orders.renew(*mc)

    def c_cancel(self) -> None:
        mc = self.my_claim() if self.rng.random() < 0.5 else None
        if mc:
            number, token = mc
            self.desk.orders.cancel(number, "torture", token=token)
            self.mine.pop(number, None)
        else:
            number = self.pick("state IN ('queued','on_hold','released','backordered') AND claimed_by IS NULL")
            if not number:
                return
            self.desk.orders.cancel(number, "torture")
        self.ack("cancel", number)

    def c_ship(self) -> None:
        number = self.pick("state IN ('released','backordered')")
        if number:
            self.desk.orders.ship(number)
            self.ack("ship", number)

    def c_ship_part(self) -> None:
        """Ship part of one line that has stock in hand: the order turns (or stays) backordered."""
        row = self.conn.execute(
            """SELECT o.number, l.line_no, l.qty_allocated - l.qty_shipped FROM orders o
               JOIN order_lines l ON l.order_id = o.id
               WHERE o.state IN ('released','backordered') AND l.qty_allocated > l.qty_shipped
               ORDER BY random() LIMIT 1""").fetchone()
        if row:
            self.desk.orders.ship(row[0], {row[1]: self.rng.randint(1, row[2])})
            self.ack("ship", row[0])

    def c_stock_receive(self) -> None:
        """A supervisor books stock in, mostly for a SKU that orders are waiting on."""
        row = self.conn.execute(
            """SELECT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.qty_allocated < l.qty
               AND (o.state IN ('released','backordered') OR (o.state = 'on_hold' AND o.hold_reason = 'stock'))
               ORDER BY random() LIMIT 1""").fetchone() if self.rng.random() < 0.8 else None
        sku = row[0] if row else self.conn.execute("SELECT sku FROM products ORDER BY random() LIMIT 1").fetchone()[0]
        got = self.desk.stock.receive(sku, self.rng.randint(1, 20))
        self.ack("stock_received", got["sku"])

    def c_create(self) -> None:
        cust = self.conn.execute("SELECT code FROM customers ORDER BY random() LIMIT 1").fetchone()[0]
        skus = [r[0] for r in self.conn.execute(
            "SELECT sku FROM products WHERE active = 1 ORDER BY random() LIMIT ?", (self.rng.randint(1, 3),))]
        lines = [LineInput(sku=s, qty=str(self.rng.randint(1, 5)), discount_pct=self.rng.choice(["0", "5", "12.5"]))
                 for s in skus]
        o = self.desk.orders.create(customer=cust, channel=self.rng.choice(["phone", "email", "online", "edi", "fax"]),
                                    type=self.rng.choice(["standard", "rush", "change", "quote"]), lines=lines)
        self.ack("created", o.number)

    def c_override(self) -> None:
        number = self.pick("state IN ('queued','in_progress','on_hold')")
        if not number:
            return
        if self.rng.random() < 0.5:
            self.desk.orders.override(number, reason="torture", priority=self.rng.choice(["P1", "P2", "P3", "P4"]))
        else:
            due = self.desk.now() + timedelta(minutes=self.rng.randint(-60, 600))
            self.desk.orders.override(number, reason="torture", due_at=due)
        self.ack("override", number)

    def c_force_release(self) -> None:
        number = self.pick("claimed_by IS NOT NULL")
        if number:
            self.desk.orders.force_release(number, "torture")
            self.mine.pop(number, None)
            self.ack("force_release", number)

    def c_reassign(self) -> None:
        number = self.pick("state = 'queued' AND claimed_by IS NULL")
        if number:
            got = self.desk.orders.reassign(number, self.rng.choice(["alice", "bob"]), "torture")
            self.ack("reassign", number, token=got.claim_token)

    # -- returns: request, then each step its state calls for, then approvals ------------------
    def c_return_new(self) -> None:
        """Open a return against a shipped order with something left to take back."""
        svc = self.returns
        if svc is None:
            return
        row = self.conn.execute(
            """SELECT o.number, l.sku, l.qty_shipped - l.qty_returned AS left_ FROM orders o
               JOIN order_lines l ON l.order_id = o.id
               WHERE o.state IN ('shipped','closed','backordered') AND l.qty_shipped > l.qty_returned
               ORDER BY random() LIMIT 1""").fetchone()
        if row is None:
            return
        reason = self.rng.choice(RETURN_REASONS)
        line = ReturnLineInput(sku=row[1], qty=str(self.rng.randint(1, row[2])), reason=reason,
                               note="torture" if reason == "other" else None, opened=self.rng.random() < 0.5)
        got = svc.new(lines=[line], resolution=self.rng.choice(RESOLUTIONS), orders=[row[0]])
        self.ack("created", got["number"])

    def c_return(self) -> None:
        """A returns clerk's turn: claim a return and take the one step its state calls for, so that
        every step of the flow gets its share (the old random prefix of steps stalled at the first)."""
        svc = self.returns
        if svc is None:
            return
        got = svc.claim_next()
        if got is None:
            return self.c_return_new()
        self.ack("return_claim", got.number, token=got.claim_token)
        state = self.conn.execute("SELECT state FROM returns WHERE number = ?", (got.number,)).fetchone()[0]
        try:
            self.return_step(got.number, state, got.claim_token)
        except OrderqError:
            pass  # a refusal (approval needed, a lapsed lease): nothing was written
        try:
            svc.unclaim(got.number, got.claim_token)
            self.ack("return_unclaim", got.number, token=got.claim_token)
        except OrderqError:
            pass  # resolved, rejected or closed: the claim ended with the work

    def return_step(self, number: str, state: str, token: str) -> None:
        svc = self.returns
        if state == "requested":
            if self.rng.random() < 0.1:
                svc.reject(number, "torture: not ours", token=token)
                self.ack("reject", number)
                return
            svc.authorize(number, token=token)
            self.ack("authorize", number)
        elif state == "authorized":
            svc.receive(number, token=token)
            self.ack("receive", number)
        elif state == "received":
            svc.inspect(number, token=token, default=self.rng.choice(INSPECTIONS))
            self.ack("inspect", number)
        elif state == "inspected":
            svc.resolve(number, token=token)
            self.ack("resolve", number)

    def c_return_close(self) -> None:
        svc = self.returns
        row = self.conn.execute("SELECT number FROM returns WHERE state = 'resolved' AND claimed_by IS NULL "
                                "ORDER BY random() LIMIT 1").fetchone()
        if svc is not None and row:
            svc.close(row[0])
            self.ack("close", row[0])

    def c_approve(self) -> None:
        svc = self.returns
        if svc is None:
            return
        row = self.conn.execute("SELECT number FROM returns WHERE state = 'pending_approval' ORDER BY random() LIMIT 1"
                                ).fetchone()
        if row:
            svc.approve(row[0], "torture")
            self.ack("approve", row[0])

    def commands(self) -> list[tuple[object, int]]:
        returns = [(self.c_return, 10), (self.c_return_new, 3), (self.c_return_close, 1)]
        if self.desk.actor.role is not None and self.desk.actor.role.value == "returns":
            return returns
        rep = [(self.c_claim, 12), (self.c_claim_one, 3), (self.c_tick, 10), (self.c_work, 12), (self.c_hold_mine, 3),
               (self.c_hold_queued, 3), (self.c_unhold, 6), (self.c_unclaim, 4), (self.c_give_back, 2),
               (self.c_renew, 2), (self.c_cancel, 3), (self.c_ship, 5), (self.c_ship_part, 5), (self.c_create, 8)]
        if self.sup:
            rep += [(self.c_override, 6), (self.c_force_release, 3), (self.c_reassign, 3), (self.c_approve, 4),
                    (self.c_stock_receive, 5), *returns]
        return rep

    def run(self) -> None:
        cmds = self.commands()
        funcs = [c for c, _ in cmds]
        weights = [w for _, w in cmds]
        while True:
            fn = self.rng.choices(funcs, weights)[0]
            try:
                fn()
            except OrderqError as e:
                # a refusal: nothing was written. A lost claim is forgotten.
                if type(e).__name__ == "ClaimLost":
                    for number in list(self.mine):
                        if number in e.message:
                            self.mine.pop(number, None)


def main(argv: list[str]) -> int:
    db, log_path, user, seed = argv[0], argv[1], argv[2], int(argv[3])
    try:
        Worker(db, log_path, user, seed).run()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
