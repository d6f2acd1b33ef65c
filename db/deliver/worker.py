"""The delivery worker: lease the next due delivery, send it, record the outcome; sleep until the next one.

Run alone by `orderq deliver`; the HTTP API server runs one on a thread of its own (with its own Store:
an SQLite connection belongs to the thread that opened it). Several workers on one database are safe:
each delivery is leased by a conditional UPDATE (db.outbox.claim_next), so only one worker sends it
at a time, and every outcome is fenced by the lease token.

Waking: a new delivery is always committed with an event, by another process, so the backend's change
detection (db.feed.change_signal: `PRAGMA data_version` polled every 0.1 s on SQLite, LISTEN on
PostgreSQL) wakes the worker while idle; otherwise it sleeps until the next retry is due. `stop` (a threading.Event, set by SIGTERM/SIGINT in the CLI) ends
the wait at once; a send in flight finishes first (it is bounded by the SMTP timeout), and a worker
killed outright leaves its delivery to the next worker when the lease lapses.

History: the entity a delivery is about (the order) gets a `delivery` event when it is sent, at its
first failed try ("mail failed: … (will retry)"), and when it is given up; not one per retry, which
would write thousands over a day.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.delivery import HISTORY_ACTION, DeliveryState, short_error
from db import events, outbox
from db.deliver import SendContext, Sender, SendFailed, senders
from db.feed import ChangeSignal, change_signal
from db.store import Store

log = logging.getLogger("orderq.deliver")

#: the longest an idle worker waits without looking at the outbox (a safety net, not the wake-up path)
IDLE_MAX_S = 5.0


@dataclass(frozen=True)
class Outcome:
    """One try, as the worker reports it (the CLI prints it)."""

    delivery: outbox.Delivery
    state: DeliveryState | None        # None: the lease was lost before the outcome was recorded
    error: str | None = None

    def line(self) -> str:
        d = self.delivery
        what = f"delivery {d.id} {d.kind} {d.ref or ''} → {d.target}".replace("  ", " ")
        if self.state == DeliveryState.SENT:
            return f"{what}: sent"
        if self.state is None:
            return f"{what}: lease lost, another worker has it"
        tail = "failed for good" if self.state == DeliveryState.FAILED else f"will retry (try {d.attempts})"
        return f"{what}: {tail}: {self.error}"


class Worker:
    def __init__(self, store: Store, *, name: str | None = None, kinds: dict[str, Sender] | None = None) -> None:
        self.store = store
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.senders = kinds if kinds is not None else senders()
        self.ctx = SendContext(store)
        self._changes: ChangeSignal | None = None  # opened at the first wait
        for kind, s in self.senders.items():
            if s.start is not None:
                self.ctx.prepared[kind] = s.start(self.ctx)

    # ---- one pass ---------------------------------------------------------------------------------
    def run_once(self, stop: threading.Event | None = None,
                 report: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Send every delivery that is due now (until none is, or `stop`)."""
        done: list[Outcome] = []
        while stop is None or not stop.is_set():
            with self.store.write() as c:
                d = outbox.claim_next(c, worker=self.name, now=self.store.now(), kinds=self.senders)
            if d is None:
                break
            got = self._deliver(d)
            done.append(got)
            if report is not None:
                report(got)
        return done

    def _deliver(self, d: outbox.Delivery) -> Outcome:
        sender = self.senders[d.kind]
        error, permanent = None, False
        try:
            sender.send(self.ctx, d)
        except SendFailed as e:
            error, permanent = e.message, e.permanent
        except Exception as e:  # noqa: BLE001 - a sender's bug or an odd I/O error is a failed try, not a dead worker
            log.exception("delivery %s: the %s sender failed", d.id, d.kind)
            error = f"{type(e).__name__}: {e}"
        now = self.store.now()
        with self.store.write() as c:
            if error is None:
                state = DeliveryState.SENT if outbox.mark_sent(c, d, now=now) else None
            else:
                state = outbox.mark_try_failed(c, d, now=now, error=error, permanent=permanent)
            if state is not None and d.entity and (state != DeliveryState.PENDING or d.attempts == 1):
                outcome = "retrying" if state == DeliveryState.PENDING else state.value
                data = {"kind": d.kind, "what": sender.what(d), "target": d.target, "outcome": outcome,
                        "delivery": d.id, **({"error": short_error(error)} if error else {})}
                events.append(c, at=now, actor="system", entity=d.entity, entity_id=d.entity_id, ref=d.ref,
                              action=HISTORY_ACTION, data=data)
        got = Outcome(d, state, short_error(error) if error else None)
        log.info("%s", got.line())
        return got

    # ---- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event, report: Callable[[Outcome], None] | None = None) -> None:
        """Deliver until `stop` is set."""
        try:
            while not stop.is_set():
                self.run_once(stop, report)
                self._wait(stop)
        finally:
            self.close()

    def _wait(self, stop: threading.Event) -> None:
        """Until the next retry is due, another process commits, IDLE_MAX_S passes, or `stop`."""
        if self._changes is None:
            self._changes = change_signal(self.store)
        self._changes.arm()  # before the read: a commit between the two wakes the wait at once
        with self.store.read() as conn:
            due = outbox.next_due(conn, self.senders)
        wait = IDLE_MAX_S if due is None else max(0.0, min(IDLE_MAX_S, (due - self.store.now()).total_seconds()))
        self._changes.wait(wait, stop)

    def close(self) -> None:
        """Let go of the change detection's own resources (on PostgreSQL, its LISTEN connection)."""
        if self._changes is not None:
            self._changes.close()
            self._changes = None
