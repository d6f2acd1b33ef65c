"""The delivery outbox as people see it: what is still owed and what failed (`orderq deliveries`, the
wallboard). Sending is the worker's (db.deliver.worker), not a command's."""
from __future__ import annotations

from core.delivery import DeliveryState
from core.permissions import Action
from db import outbox
from db.service.context import Context


class DeliveryService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def listing(self, *, everything: bool = False, limit: int = 500) -> list[outbox.Delivery]:
        """Pending and failed deliveries, oldest first; `everything` adds the sent ones."""
        self.ctx.require(Action.EVENTS)
        states = list(DeliveryState) if everything else [DeliveryState.PENDING, DeliveryState.FAILED]
        with self.ctx.store.read() as c:
            return outbox.listing(c, states, limit)

    def counts(self) -> dict[str, int]:
        self.ctx.require(Action.EVENTS)
        with self.ctx.store.read() as c:
            return outbox.counts(c)
