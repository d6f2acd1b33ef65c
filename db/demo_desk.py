"""The demo's desk at work: a team of reps works the queue deadline-first, one order each at a time,
in desk hours; holds are lifted by the rep who set them, or escalated to the supervisor.

The day is simulated on the rules' desk hours laid out as an axis (`core.open_time`): arrival, claim,
hold and release times are open seconds, mapped to the wall clock only when an event is written. Each event's wall
time follows from its open time, so the history reads like a desk's week (nobody works at night)
and it is the same history whatever hour it is generated at. Each rep holds one claim at a time. No SQL here: `db.demo` writes what this decides.
"""
from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from core.open_time import OpenTimeline
from core.triage import PAUSING_HOLDS
from db.claims import new_token

SUPERVISOR = "sam"
#: hold reason -> (note when held, note when lifted)
HOLD_NOTES = {
    "customer_info": ("waiting on ship-to address", "customer confirmed the ship-to address"),
    "pricing": ("price list mismatch", "price confirmed against the contract"),
    "customer_request": ("customer asked to wait", "customer asked us to go ahead"),
    "stock": ("awaiting supplier delivery", "supplier confirmed the delivery date"),
    "credit": ("over credit limit", "credit approved by the supervisor"),
}


@dataclass
class Job:
    """One order that needs a rep, and what will happen to it (drawn up front, so the random
    draws do not depend on the clock)."""

    k: int
    u: float                       # arrival, open seconds
    received: float                # arrival, epoch seconds
    due: float                     # due_at, epoch seconds (moves on with a pausing hold)
    rank: tuple                    # the rest of the queue order: class level, tier rank, -total
    service: float                 # seconds of rep work to release it
    steps: list[str]
    stock: dict[str, int]          # the stock move its release makes
    plan: str = "release"          # "release", "hold" (a rep holds it mid-work) or "cancel"
    hold_reason: str | None = None
    auto_hold: str | None = None   # held when entered (credit, stock): lifted or cancelled later
    cancel_reason: str | None = None
    short: bool = False            # needs more stock than is left: its hold ends in a cancellation
    # outcome
    events: list[tuple[float, str, str, dict]] = field(default_factory=list)
    ticks: list[tuple[str, str, float]] = field(default_factory=list)
    state: str = "queued"
    claim: tuple[str, str, float] | None = None        # (rep, token, claimed at) when in progress now
    hold: tuple[str, str, float] | None = None         # (reason, note, started) when on hold now
    paused_s: float = 0.0
    released: tuple[float, str] | None = None
    cancelled: tuple[float, str] | None = None


class Desk:
    """Event-driven: arrivals, reps coming free and holds coming due, in open-time order."""

    def __init__(self, jobs: list[Job], reps: list[str], *, axis: OpenTimeline, u_now: float, now: float,
                 rng: random.Random) -> None:
        self.jobs, self.axis, self.u_now, self.now, self.rng = jobs, axis, u_now, now, rng
        self.idle: deque[str] = deque(reps)
        self.reps = reps
        self.queue: list[tuple] = []
        self.timeline: list[tuple] = []
        self.seq = 0
        self.closed = not axis.is_open(now)

    def _at(self, u: float, kind: str, x: Any) -> None:
        self.seq += 1
        heapq.heappush(self.timeline, (u, self.seq, kind, x))

    def _enqueue(self, job: Job) -> None:
        heapq.heappush(self.queue, ((job.due, *job.rank, job.k), job))

    def run(self) -> None:
        for job in self.jobs:
            self._at(job.u, "arrive", job)
        while self.timeline and self.timeline[0][0] <= self.u_now:
            u, _, kind, x = heapq.heappop(self.timeline)
            if kind == "arrive":
                if x.auto_hold:
                    self._hold(x, u, self.axis.at(u), x.auto_hold, None, None)
                else:
                    self._enqueue(x)
            elif kind == "free":
                self.idle.append(x)
            else:
                self._lift(x, u)
            while self.idle and self.queue:
                self._work(self.idle.popleft(), heapq.heappop(self.queue)[1], u)

    def _when(self, u: float, t0: float, off: float) -> float | None:
        """The wall time of a step `off` seconds into a session claimed at open second `u` (wall `t0`),
        or None if it has not happened yet. A session that runs into the close goes on at the next
        opening (its handling is `off` desk seconds, as the simulator counts it); only on the day
        that has just closed does the rep stay on and finish in overtime, past 18:00."""
        if u + off <= self.u_now:
            return self.axis.at(u + off)
        if self.closed and t0 + off <= self.now:
            return t0 + off
        return None

    def _work(self, rep: str, job: Job, u: float) -> None:
        t0, tok = self.axis.at(u), new_token()
        job.events.append((t0, rep, "claim", {"claim": "acquire", "token": tok, "state": "in_progress"}))
        drop = {"claim": "drop", "token": tok, "holder": rep}
        spent = job.service * (0.35 if job.plan == "hold" else 0.4 if job.plan == "cancel" else 1.0)
        if job.plan == "release":
            n = len(job.steps)
            for i, step in enumerate(job.steps):
                at = self._when(u, t0, spent * (i + 1) / (n + 1))
                if at is not None:
                    job.ticks.append((step, rep, at))
                    job.events.append((at, rep, "tick", {"step": step}))
        end = self._when(u, t0, spent)
        if end is None:  # still on it now
            job.state, job.claim = "in_progress", (rep, tok, t0)
        elif job.plan == "hold":
            self._hold(job, u + spent, end, job.hold_reason, rep, drop)
        elif job.plan == "cancel":
            job.events.append((end, rep, "cancel", {"state": "cancelled", "reason": job.cancel_reason, **drop}))
            job.state, job.cancelled = "cancelled", (end, job.cancel_reason)
        else:
            job.events.append((end, rep, "release", {"state": "released", **drop, "stock": job.stock}))
            job.state, job.released = "released", (end, rep)
        self._at(u + spent, "free", rep)

    def _hold(self, job: Job, u: float, t: float, reason: str, rep: str | None, drop: dict | None) -> None:
        note = HOLD_NOTES[reason][0]
        if rep is not None:
            job.events.append((t, rep, "hold", {"state": "on_hold", "reason": reason, "note": note, **(drop or {})}))
        job.state, job.hold = "on_hold", (reason, note, t)
        job.plan = "release"
        mins = (10, 30) if job.rank[0] <= 2 else (20, 60) if reason == "credit" else (30, 120)
        self._at(u + 60 * self.rng.uniform(*mins), "lift", (job, rep))

    def _lift(self, x: tuple[Job, str | None], u: float) -> None:
        """A hold comes off: the rep who set it lifts it; a credit hold, or one on a P1/P2 order, is
        escalated and the supervisor lifts it; an order held for stock that never came is cancelled."""
        job, rep = x
        reason, _, started = job.hold
        t = self.axis.at(u)
        escalated = reason == "credit" or job.rank[0] <= 2
        who = SUPERVISOR if escalated else rep or self.rng.choice(self.reps)
        if job.short or (reason == "credit" and self.rng.random() < 0.15):
            why = "item out of stock; customer informed" if job.short else "credit refused; customer informed"
            job.events.append((t, who, "cancel", {"state": "cancelled", "reason": why}))
            job.state, job.hold, job.cancelled = "cancelled", None, (t, why)
            return
        paused = t - started if reason in PAUSING_HOLDS else 0.0
        job.due += paused
        job.paused_s += paused
        job.events.append((t, who, "unhold", {"state": "queued", "reason": reason, "note": HOLD_NOTES[reason][1],
                                               "paused_s": paused, "due_at": job.due}))
        job.state, job.hold, job.auto_hold = "queued", None, None
        self._enqueue(job)
