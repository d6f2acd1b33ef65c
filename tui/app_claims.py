"""The app's side of claims and leases: renewing this session's claims, giving them back on the way out,
noticing a claim lost to another session, and returning lapsed leases (anyone's) to their queues.

A mixin of OrderqApp (tui/app.py), its own module so the app keeps to start-up, screens and the feed. It
uses the app's `desk`, `claims` (tui.claim_registry), `session_id`, `_released`, `_lease_timer`,
`_lease_look_at`, `feed_poke`, `notify` and `set_timer`.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from core.errors import ClaimLost, OrderqError
from db.store import system_clock

if TYPE_CHECKING:
    from core.models import Event

log = logging.getLogger("orderq.tui")

#: the longest a session waits between looks for lapsed leases. It looks when the next lease ends
#: (known from the store, and moved sooner by the feed's claim events, which carry their lease end);
#: renewals move that time later without an event, so an early look finds nothing and looks again.
LEASE_LOOK_S = 30.0
#: the same with an injected clock (tests): it may jump past a lease with no event at all
LEASE_LOOK_TEST_CLOCK_S = 2.0


class ClaimKeeping:
    def release_all(self) -> int:
        """Give back every claim this session holds and drop its session row. Safe to call twice."""
        if self._released:
            return 0
        self._released = True
        n = 0
        by_queue: dict[str, list[str]] = {}
        for h in self.claims.items():
            by_queue.setdefault(h.queue, []).append(h.token)
        for queue, tokens in by_queue.items():
            service = self.desk.orders if queue == "orders" else getattr(self.desk, queue, None)
            give_back = getattr(service, "give_back", None)
            if give_back is None:
                continue
            try:
                n += int(give_back(tokens) or 0)
            except Exception:  # noqa: BLE001 - leases expire anyway; never die on the way out
                log.exception("could not give back %s claims", queue)
        for h in self.claims.items():
            self.claims.remove(h.number)
        if self.session_id is not None:
            try:
                self.desk.sessions.end(self.session_id)
            except Exception:  # noqa: BLE001
                log.exception("could not end the session row")
        return n

    def _note_lost_claims(self, batch: list[Event]) -> None:
        me = self.desk.actor.name
        for ev in batch:
            data = ev.data or {}
            kind = data.get("claim")
            tok = data.get("was") if kind == "transfer" else data.get("token")
            if kind not in ("drop", "transfer") or not tok:
                continue
            held = self.claims.by_token(tok)
            if held is None:
                continue
            self.claims.remove(held.number)
            if kind == "transfer":
                self.notify(f"{held.number}: your claim was taken over in another session", severity="warning",
                            timeout=8)
            elif ev.actor != me:
                what = ev.action.replace("_", " ")
                self.notify(f"{held.number}: your claim ended ({what} by {ev.actor})", severity="warning",
                            timeout=8)

    # ---- leases ------------------------------------------------------------------------------
    def renew_claims(self) -> None:
        for h in self.claims.items():
            service = self.desk.orders if h.queue == "orders" else getattr(self.desk, h.queue, None)
            renew = getattr(service, "renew", None)
            if renew is None:
                continue
            try:
                renew(h.number, h.token)
            except ClaimLost as e:
                self.claims.remove(h.number)
                self.notify(f"{h.number}: {e.message}", severity="error", timeout=10)
            except OrderqError as e:
                log.warning("renewing %s failed: %s", h.number, e)

    def watch_leases(self) -> None:
        """Return lapsed leases (anyone's) to their queues, then look again when the next one ends.

        The reap is this session's own commit, which its change feed does not report, so the feed
        is poked: every screen here redraws, and other sessions see the `lease_expired` events
        through their own feeds. The poke also delivers a reap that a screen's own read did."""
        if self._lease_timer is not None:
            self._lease_timer.stop()
        cap = LEASE_LOOK_S if self.desk.store.clock is system_clock else LEASE_LOOK_TEST_CLOCK_S
        wait = cap
        try:
            leases = self.desk.leases
            leases.settle()
            self.feed_poke()
            nxt = leases.next_expiry()
            if nxt is not None:
                wait = min(cap, max(0.05, (nxt - self.desk.now()).total_seconds() + 0.05))
        except Exception:  # noqa: BLE001 - a busy or damaged store: look again shortly, never crash
            log.exception("could not look for lapsed leases")
            wait = LEASE_LOOK_TEST_CLOCK_S
        self._lease_look_at = time.monotonic() + wait
        self._lease_timer = self.set_timer(wait, self.watch_leases)

    def _note_new_leases(self, batch: list[Event]) -> None:
        """A claim or take-over elsewhere may end before this session's next look: its event carries
        the lease end, so the look moves sooner, with no read (the feed's hot path)."""
        if self._lease_look_at is None:
            return
        ends = [e for ev in batch if (e := (ev.data or {}).get("lease_expires_at")) is not None]
        if not ends:
            return
        try:
            soonest = min(float(e) for e in ends)
        except (TypeError, ValueError):
            return
        at = time.monotonic() + max(0.05, soonest - self.desk.now().timestamp() + 0.05)
        if at < self._lease_look_at - 0.05:
            self._lease_look_at = at
            if self._lease_timer is not None:
                self._lease_timer.stop()
            self._lease_timer = self.set_timer(at - time.monotonic(), self.watch_leases)
