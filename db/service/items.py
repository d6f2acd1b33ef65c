"""What the order and return services share over their claimable tables, written once.

Both keep one versioned row per item (orders, returns), end every command with an event on that
item, and show its history; only the table, the entity name and the view permission differ, and
those come from the service's `QUEUE` (db.claims.ORDERS or RETURNS) and `VIEW`.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import Conflict
from core.permissions import Action
from db.dbapi import Connection, Row
from db import claims, events
from db.convert import ts
from db.service.context import Context

if TYPE_CHECKING:
    from core.models import Event


class ItemRows:
    QUEUE: claims.Queue
    #: the permission that lets a user look at this queue's items
    VIEW: Action
    ctx: Context

    @property
    def _actor(self) -> str:
        return self.ctx.actor.name

    def _row(self, c: Connection, number: str) -> Row:  # provided by the service
        raise NotImplementedError

    def _locked_row(self, c: Connection, number: str, now: datetime) -> Row:
        """The row inside a write transaction, with a lapsed lease on it already returned."""
        row = self._row(c, number)
        if row["claimed_by"] is not None and claims.reap(c, self.QUEUE, now, row["id"]):
            row = self._row(c, number)
        return row

    def _update(self, c: Connection, row: Row, now: datetime, **cols: Any) -> None:
        """Write `cols` only if nobody changed the row since it was read (its version), bumping it."""
        sets = "".join(f"{k} = :{k}, " for k in cols)  # may be empty: a tick only bumps the version
        cur = c.execute(
            f"UPDATE {self.QUEUE.table} SET {sets}version = version + 1, updated_at = :_now"
            " WHERE id = :_id AND version = :_v",
            {**cols, "_now": ts(now), "_id": row["id"], "_v": row["version"]},
        )
        if cur.rowcount != 1:
            raise Conflict(f"{row['number']} changed under this command; try again")

    def _event(self, c: Connection, row: Row, now: datetime, action: str, **data: Any) -> int:
        """The item's audit event; returns its id (what a webhook's event id is made from, db.webhooks)."""
        return events.append(c, at=now, actor=self._actor, entity=self.QUEUE.entity, entity_id=row["id"],
                      ref=row["number"], action=action, data=data)

    def history(self, number: str) -> list[Event]:
        from db.service.claiming import settle_leases  # claiming builds on this module

        self.ctx.require(self.VIEW)
        settle_leases(self.ctx)
        c = self.ctx.store.conn
        return events.for_entity(c, self.QUEUE.entity, self._row(c, number)["id"])
