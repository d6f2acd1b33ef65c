"""A Hypothesis state machine drives the real store (a WAL file) against a small model of the queue.

The model knows only the contract: which command is allowed in which state by whom, what a claim
takes (the first unclaimed queued order in EDF order: due_at, class, tier, value desc, id), that a
lapsed lease is returned by the next claim, by the next command on that item, or by the next read
that shows holders (the queue's list: issue 12 §4, every view agrees once a lease lapses), and that every
command that is refused changes nothing. After every step the store must equal the model, and
the queue must be in the model's order.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core.errors import OrderqError
from db import demo
from db.convert import ts
from db.orders_read import QueueFilter
from db.service import Desk
from db.service.orders import LineInput
from db.store import Store
from tests.conftest import FakeClock

USERS = ["alice", "bob", "sam"]
REASONS = ["customer_info", "pricing", "customer_request", "stock"]
_TEMPLATE: dict[str, Path] = {}


def template() -> Path:
    """An empty desk (users, customers, well-stocked products, no orders), made once per session."""
    if "db" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="orderq-model-"))
        p = folder / "template.db"
        store = Store.open(p, create=True, clock=FakeClock())
        demo.generate(store, orders=0, seed=3)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        _TEMPLATE["db"] = p
    return _TEMPLATE["db"]


@dataclass
class M:
    """What the model keeps per order."""

    id: int
    state: str
    due: float
    level: int
    tier: int
    total: int
    checklist: list[str]
    hold_reason: str | None = None
    holder: str | None = None
    token: str | None = None
    lease_until: float | None = None
    hold_since: float | None = None
    ticked: set[str] = field(default_factory=set)

    def key(self) -> tuple:
        return (self.due, self.level, self.tier, -self.total, self.id)


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="orderq-model-run-"))
        self.path = self.dir / "q.db"
        shutil.copy(template(), self.path)
        self.clock = FakeClock()
        self.store = Store.open(self.path, clock=self.clock)
        self.desks = {u: Desk.for_user(self.store, u) for u in USERS}
        c = self.store.conn
        # The model is the queue's contract; a customer's PO rule has its own tests (tests/orders),
        # so the model's customers are those who release without one.
        self.customers = [r[0] for r in c.execute(
            "SELECT code FROM customers WHERE po_required = 0 ORDER BY code LIMIT 12")]
        self.skus = [r[0] for r in c.execute(
            "SELECT sku FROM products WHERE active = 1 AND stock >= 1000 ORDER BY sku LIMIT 12")]
        self.model: dict[str, M] = {}
        self.lease = self.store.rules.lease.total_seconds()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- model helpers ----------------------------------------------------------------
    def now(self) -> float:
        return ts(self.clock())

    def reap(self, o: M) -> None:
        if o.holder is not None and o.lease_until is not None and o.lease_until < self.now():
            o.holder = o.token = o.lease_until = None
            if o.state == "in_progress":
                o.state = "queued"

    def reaped(self, number: str) -> M:
        """The order as a command on it sees it: a lapsed lease already returned. The store
        returns it inside the command's transaction, so a refused command keeps it as it was."""
        o = replace(self.model[number], ticked=set(self.model[number].ticked))
        self.reap(o)
        return o

    def fence_ok(self, o: M, user: str, token: str | None, need_claim: bool) -> bool:
        if o.holder is None:
            return token is None and not need_claim
        return o.holder == user and token is not None and token == o.token

    def pick(self, i: int) -> tuple[str, M] | None:
        if not self.model:
            return None
        number = sorted(self.model)[i % len(self.model)]
        return number, self.model[number]

    def attempt(self, allowed: bool, fn, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN201
        """Run a command; the model says whether it must succeed or be refused."""
        try:
            got = fn(*args, **kw)
        except OrderqError as e:
            assert not allowed, f"{fn.__name__}{args} was refused but the model allows it: {e.message}"
            return None
        assert allowed, f"{fn.__name__}{args} succeeded but the model forbids it"
        return got

    def drop(self, o: M) -> None:
        o.holder = o.token = o.lease_until = None

    # ---- rules ----------------------------------------------------------------------------
    @rule(cust=st.integers(0, 11), sku=st.integers(0, 11), qty=st.integers(1, 3),
          kind=st.sampled_from(["standard", "rush", "backorder", "quote"]),
          minutes=st.integers(-300, 300))
    def create(self, cust: int, sku: int, qty: int, kind: str, minutes: int) -> None:
        desk = self.desks["alice"]
        o = desk.orders.create(customer=self.customers[cust % len(self.customers)], channel="phone", type=kind,
                               lines=[LineInput(sku=self.skus[sku % len(self.skus)], qty=str(qty))],
                               received_at=self.clock() + timedelta(minutes=minutes))
        row = self.store.conn.execute("SELECT priority_level, tier_rank, total_cents FROM orders WHERE id = ?",
                                      (o.id,)).fetchone()
        assert o.state.value in ("queued", "on_hold")
        self.model[o.number] = M(o.id, o.state.value, ts(o.due_at), row[0], row[1], row[2], list(o.checklist),
                                 hold_reason=o.hold_reason.value if o.hold_reason else None,
                                 hold_since=self.now() if o.hold_reason else None)

    @rule(user=st.sampled_from(USERS))
    def claim_next(self, user: str) -> None:
        for o in self.model.values():
            self.reap(o)
        queued = sorted((o.key(), n) for n, o in self.model.items() if o.state == "queued" and o.holder is None)
        got = self.desks[user].orders.claim_next()
        if not queued:
            assert got is None
            return
        assert got is not None, "the queue had work but claim_next found none"
        assert got.number == queued[0][1], f"claimed {got.number}, the model's EDF order says {queued[0][1]}"
        o = self.model[got.number]
        o.state, o.holder, o.token, o.lease_until = "in_progress", user, got.claim_token, ts(got.lease_expires_at)

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6))
    def claim_this(self, user: str, i: int) -> None:
        p = self.pick(i)
        if not p:
            return
        number, o = p
        for each in self.model.values():  # a claim returns every lapsed lease, whatever it finds
            self.reap(each)
        got = self.attempt(o.state == "queued" and o.holder is None, self.desks[user].orders.claim, number)
        if got:
            o.state, o.holder, o.token, o.lease_until = "in_progress", user, got.claim_token, ts(got.lease_expires_at)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6), reason=st.sampled_from(REASONS),
          use_token=st.booleans())
    def hold(self, user: str, i: int, reason: str, use_token: bool) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        token = o.token if use_token else None
        ok = o.state in ("queued", "in_progress") and self.fence_ok(o, user, token, need_claim=False)
        self.attempt(ok, self.desks[user].orders.hold, number, reason, "model", token=token)
        if ok:
            o.state, o.hold_reason, o.hold_since = "on_hold", reason, self.now()
            self.drop(o)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6))
    def unhold(self, user: str, i: int) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        ok = o.state == "on_hold" and (o.hold_reason != "credit" or user == "sam")
        self.attempt(ok, self.desks[user].orders.unhold, number, "model: sorted")
        if ok:
            if o.hold_reason in ("customer_info", "customer_request") and o.hold_since is not None:
                # the SLA clock paused while waiting on the customer, and it counts open time only:
                # a due time in closed hours (a supervisor's override) moves on from the next opening
                cal = self.store.calendar
                o.due = cal.add_open_s(o.due, cal.open_s(o.hold_since, self.now()))
            o.state, o.hold_reason, o.hold_since = "queued", None, None
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6))
    def unclaim(self, user: str, i: int) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        token = o.token
        ok = self.fence_ok(o, user, token, need_claim=True)
        self.attempt(ok, self.desks[user].orders.unclaim, number, token)
        if ok:
            if o.state == "in_progress":
                o.state = "queued"
            self.drop(o)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6))
    def work_and_release(self, user: str, i: int) -> None:
        """Tick every step left, then release: only the live holder may."""
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        token = o.token
        ok = o.state == "in_progress" and self.fence_ok(o, user, token, need_claim=True)
        desk = self.desks[user]
        for step in [s for s in o.checklist if s not in o.ticked]:
            self.attempt(ok, desk.orders.tick, number, step, token=token)
            if ok:
                o.ticked.add(step)
        self.attempt(ok, desk.orders.release, number, token=token)
        if ok:
            o.state = "released"
            self.drop(o)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6), use_token=st.booleans())
    def cancel(self, user: str, i: int, use_token: bool) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        token = o.token if use_token else None
        ok = o.state in ("queued", "in_progress", "on_hold", "released") and self.fence_ok(o, user, token, False)
        self.attempt(ok, self.desks[user].orders.cancel, number, "model", token=token)
        if ok:
            o.state = "cancelled"
            self.drop(o)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6))
    def force_release(self, user: str, i: int) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        ok = user == "sam" and o.holder is not None
        self.attempt(ok, self.desks[user].orders.force_release, number, "model")
        if ok:
            if o.state == "in_progress":
                o.state = "queued"
            self.drop(o)
            self.model[number] = o

    @rule(user=st.sampled_from(USERS), i=st.integers(0, 10**6), minutes=st.integers(-600, 600))
    def override_due(self, user: str, i: int, minutes: int) -> None:
        p = self.pick(i)
        if not p:
            return
        number, _ = p
        o = self.reaped(number)
        due = self.clock() + timedelta(minutes=minutes)
        ok = user == "sam" and o.state in ("queued", "in_progress", "on_hold")
        self.attempt(ok, self.desks[user].orders.override, number, reason="model", due_at=due)
        if ok:
            o.due = ts(due)
            self.model[number] = o

    @rule(minutes=st.sampled_from([1, 4, 9, 11, 30]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # ---- invariants -------------------------------------------------------------------
    @invariant()
    def store_equals_model(self) -> None:
        rows = {r["number"]: r for r in self.store.conn.execute(
            "SELECT number, state, claimed_by, claim_token, due_at, hold_reason FROM orders")}
        assert set(rows) == set(self.model)
        for number, o in self.model.items():
            r = rows[number]
            assert (r["state"], r["claimed_by"], r["claim_token"], r["hold_reason"]) == \
                (o.state, o.holder, o.token, o.hold_reason), f"{number}: store {tuple(r)} model {o}"
            assert abs(r["due_at"] - o.due) < 1e-3, number

    @invariant()
    def queue_in_model_order(self) -> None:
        listed = [r["number"] for r in self.desks["sam"].orders.list(QueueFilter(states=("queued",)), 0, 10_000)]
        for o in self.model.values():  # that read returned every lapsed lease first
            self.reap(o)
        want = [n for _, n in sorted((o.key(), n) for n, o in self.model.items() if o.state == "queued")]
        assert listed == want


QueueMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestQueueModel = QueueMachine.TestCase


def test_checks_pass_after_a_model_run() -> None:
    """`orderq check`'s own checks agree with a database the machine left behind."""
    from db.check import run_checks

    m = QueueMachine()
    try:
        for _ in range(5):
            m.create(0, 1, 1, "standard", 0)
        m.claim_next("alice")
        m.claim_next("bob")
        m.time_passes(11)
        m.claim_next("sam")
        m.work_and_release("sam", sorted(m.model).index(next(n for n, o in m.model.items() if o.holder == "sam")))
        results = run_checks(m.store.conn)
        assert all(r.ok for r in results), [r.as_json() for r in results if not r.ok]
    finally:
        m.teardown()


def test_a_customer_hold_on_a_due_overridden_into_closed_hours_moves_it_by_open_time() -> None:
    """Hypothesis found this run (the model then added wall-clock time at unhold, 231 minutes off the
    store): a supervisor overrides a held order's due time to before the desk opened, and the pause
    while waiting on the customer moves it on from the next opening, as open time."""
    m = QueueMachine()

    def step(name: str, **kw: object) -> None:
        getattr(m, name)(**kw)
        m.queue_in_model_order()
        m.store_equals_model()

    try:
        step("claim_this", i=0, user="alice")
        for _ in range(4):
            step("time_passes", minutes=1)
        step("create", cust=0, kind="standard", minutes=0, qty=1, sku=0)
        for _ in range(6):
            step("time_passes", minutes=1)
        step("hold", i=0, reason="customer_info", use_token=False, user="alice")
        for minutes in (1, 4, 1, 1):
            step("time_passes", minutes=minutes)
        step("override_due", i=0, minutes=-308, user="sam")
        step("unhold", i=0, user="alice")
    finally:
        m.teardown()
