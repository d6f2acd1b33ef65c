"""The lease procedures every claimable queue shares (orders and returns), written once.

A service mixes this in, names its `QUEUE` (db.claims.ORDERS or RETURNS), `VIEW` and `WORK`, and
provides `_row` (db.service.items); claim_next/claim keep their own permission and wording.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import ClaimLost, DomainError
from core.permissions import Action
from db import claims
from db.convert import dt
from db.connection import StoreError
from db.dbapi import Error, Row
from db.service.context import Context
from db.service.items import ItemRows

log = logging.getLogger("orderq.claims")


def settle_leases(ctx: Context) -> int:
    """Return lapsed leases to their queues now (events by 'system'); called first by every read
    that shows who holds what, and by each live session when the next lease ends.

    Issue 12 §4: a lease that ended at 07:21 still read "working ● alice" in the queue and in
    `order list` at 07:23, while `kpi` already said she held nothing. Why a reaper rather than a
    "lease still live" predicate in every read: the stored state is what every view already reads
    (state filters, the queue's per-state index windows, counts by state, `check`), and a
    predicate would have to turn "in_progress with a lapsed lease" into "queued" in each of them.
    Reaping keeps one truth, and the `lease_expired` event tells every other session at once.

    The write happens only when the index read finds a lapsed lease, in one short transaction.
    It is the system's work, not the reader's, so it is not gated on the reader being active;
    inside a caller's transaction, or when the store refuses (busy, read-only), the read goes on
    with what is stored and the next read or session tick reaps."""
    conn = ctx.store.conn
    if conn.in_transaction:
        return 0
    now = ctx.now()
    try:
        if not claims.any_lapsed(conn, now):
            return 0
        with ctx.store.write() as c:
            return claims.reap_all(c, now)
    except (StoreError, Error) as e:
        log.warning("could not return lapsed leases: %s", e)
        return 0


class LeaseService:
    """What a live session needs to keep every view true to the leases: reap, and when to next."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def settle(self) -> int:
        return settle_leases(self.ctx)

    def next_expiry(self) -> datetime | None:
        return claims.next_expiry(self.ctx.store.conn)

if TYPE_CHECKING:
    from db.orders_read import QueueFilter


@dataclass(frozen=True)
class Claimed:
    id: int
    number: str
    priority: str
    due_at: datetime
    claim_token: str
    lease_expires_at: datetime
    queue: str = "orders"

    @classmethod
    def from_row(cls, row: Row, queue: str) -> "Claimed":
        return cls(row["id"], row["number"], row["priority"], dt(row["due_at"]), row["claim_token"],
                   dt(row["lease_expires_at"]), queue=queue)

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue, "id": self.id, "number": self.number, "priority": self.priority,
            "due_at": self.due_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "claim_token": self.claim_token,
            "lease_expires_at": self.lease_expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }


class LeaseMixin(ItemRows):
    #: the permission that lets a user work (and so claim) this queue
    WORK: Action
    #: why an unclaimed item cannot be claimed, e.g. "{number} is {state}, not queued"
    NOT_CLAIMABLE: str

    def claim_next(self, within: QueueFilter | None = None) -> Claimed | None:
        """The next item in queue order; `within`: the rep's queue filter (the orders queue's
        QueueFilter), so `c` and release-and-next never claim outside the view the rep works."""
        self.ctx.require(self.WORK)
        if within is not None and within.excludes_queued:
            return None
        return self._claim(None, within.claim_narrowing() if within is not None else None)

    def claim(self, number: str) -> Claimed:
        """Claim this item, or say who holds it or why it is not in the queue."""
        self.ctx.require(self.WORK, number)
        c = self.ctx.store.conn
        got = self._claim(self._row(c, number)["id"])
        if got is None:
            row = self._row(c, number)
            if row["claimed_by"]:
                raise ClaimLost(f"{row['number']} is claimed by {row['claimed_by']}")
            raise DomainError(self.NOT_CLAIMABLE.format(number=row["number"], state=row["state"]))
        return got

    def _claim(self, item_id: int | None, narrow: claims.Narrow | None = None) -> Claimed | None:
        """Reap lapsed leases, then take the next (or the named) item, in one write transaction."""
        now = self.ctx.now()
        conn = self.ctx.store.conn
        ready = claims.plan(conn, self.QUEUE, user=self._actor, now=now, lease=self.ctx.rules.lease,
                            item_id=item_id, narrow=narrow)  # before the write lock: inside, only UPDATE and INSERT
        try:
            alone = claims.take_alone(conn, ready, self.ctx.checked_user)
        except claims.NotActive:
            self.ctx.refuse_disabled()
        if alone is not claims.LONG_WAY:  # the backend sent the whole claim at once
            return None if alone is None else Claimed.from_row(alone, self.QUEUE.table)
        lapsed = claims.any_lapsed(conn, now, (self.QUEUE,))
        with self.ctx.write() as c:
            if lapsed:
                claims.reap(c, self.QUEUE, now)
            row = claims.take(c, ready)
        return None if row is None else Claimed.from_row(row, self.QUEUE.table)

    def take_over(self, number: str) -> Claimed:
        """Move your own live claim from another session to this one (SPEC §2 "Claims").

        A TUI user cannot type the other session's token (issue 12 §4), so instead of asking for
        it this hands the claim over: a new token and an event, after which the other session's
        writes are refused by the fence, and its app is told (tui.app_claims._note_lost_claims)."""
        self.ctx.require(self.WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            if row["claimed_by"] is None:
                raise ClaimLost(f"{row['number']} is no longer claimed (the lease lapsed or it was given back); "
                                "claim it again")
            if row["claimed_by"] != self._actor:
                raise ClaimLost(f"{row['number']} is claimed by {row['claimed_by']}; only they can take it over")
            got = claims.transfer(c, self.QUEUE, row, now=now, lease=self.ctx.rules.lease)
        return Claimed.from_row(got, self.QUEUE.table)

    def renew(self, number: str, token: str) -> datetime:
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._row(c, number)
            return claims.renew(c, self.QUEUE, item_id=row["id"], user=self._actor, token=token, now=now,
                                lease=self.ctx.rules.lease)

    def unclaim(self, number: str, token: str | None) -> None:
        """Give a claim back unfinished: the item returns to its queue."""
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            claims.fence(row, user=self._actor, token=token, now=now, need_claim=True)
            claims.drop(c, self.QUEUE, row, actor=self._actor, now=now, action="unclaim")

    def give_back(self, tokens: list[str]) -> int:
        """Session end: return every claim this session still holds (by token). Not gated on the
        user being active (`Context.write`): giving work back is what a disabled user's session must
        still be able to do on its way out."""
        if not tokens:
            return 0
        now = self.ctx.now()
        n = 0
        with self.ctx.store.write() as c:
            for tok in tokens:
                row = c.execute(f"SELECT * FROM {self.QUEUE.table} WHERE claim_token = ? AND claimed_by = ?",
                                (tok, self._actor)).fetchone()
                if row is not None:
                    claims.drop(c, self.QUEUE, row, actor=self._actor, now=now, action="unclaim",
                                extra={"why": "session ended"})
                    n += 1
        return n
