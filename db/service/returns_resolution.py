"""Resolving a return: paying the refund or credit the policy computes (never typed), opening the
exchange order, giving back the units that never arrived, and closing the return.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core import returns as policy
from core.enums import Channel, Resolution, ReturnState
from core.money import to_cents_int
from core.permissions import Action
from db.dbapi import Connection, Row
from db import webhooks
from db.convert import ts
from db.service.orders import LineInput
from db.service.returns_read import ReturnReads


class ReturnResolution(ReturnReads):
    """The end of a return: the refund, the exchange, the close."""

    def resolve(self, number: str, *, token: str | None = None) -> dict[str, Any]:
        """Pay what the policy computes (never typed); an exchange opens a linked P2 replacement order."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row, new = self._fenced_step(c, number, now, "resolve", token)
            q = self._quote(c, row, received=True)
            for ln, gross, _fee in q.lines:
                c.execute("UPDATE return_lines SET refund_cents = ? WHERE id = ?", (to_cents_int(gross), ln.key))
            # units that never arrived are no longer "returned" on the order line
            for ln in self._lines(c, row["id"]):
                missing = ln["qty"] - (ln["qty_received"] or 0)
                if missing:
                    c.execute("UPDATE order_lines SET qty_returned = qty_returned - ? WHERE id = ?",
                              (missing, ln["order_line_id"]))
            exchange = None
            if row["resolution"] == Resolution.EXCHANGE.value:
                exchange = self._exchange_order(c, row, now)
            end = self._claim_end(row)
            self._update(c, row, now, state=new.value, resolved_at=ts(now), refund_cents=to_cents_int(q.total),
                         fee_cents=to_cents_int(q.fee), shipping_refund_cents=to_cents_int(q.shipping_total),
                         exchange_order_id=exchange[0] if exchange else None, **(self._NO_CLAIM if end else {}))
            eid = self._event(c, row, now, "resolve", state=new.value, resolution=row["resolution"],
                              refund=str(q.total), fee=str(q.fee), shipping=str(q.shipping_total),
                              explanation=q.explanation, exchange_order=exchange[1] if exchange else None, **end)
            webhooks.return_event(c, "return.resolved", row["id"], now=now, event_row_id=eid,
                                  view=lambda: _api_view(self._detail_in(c, number)))
        return self.detail(number)

    def _exchange_order(self, c: Connection, row: Row, now: datetime) -> tuple[int, str] | None:
        """The replacement order for the units received, created in one step: on the original
        order's channel (where the business came from; SPEC §2 has no channel for replacements, and
        phone would skew electronic share), in the returns policy's class (P2), worked by a rep."""
        from db.service.orders import OrderService, Replacement

        lines = [ln for ln in self._lines(c, row["id"]) if ln["qty_received"]]
        if not lines:
            return None
        first = c.execute("SELECT channel FROM orders WHERE id = ?", (lines[0]["order_id"],)).fetchone()
        cust = c.execute("SELECT code FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
        rules = self.ctx.rules
        otype = "change" if "change" in rules.request_types else next(iter(rules.request_types))
        number = OrderService(self.ctx)._create_in(
            c, now=now, customer=cust["code"], channel=Channel(first["channel"]), type=otype,
            lines=[LineInput(sku=ln["sku"], qty=ln["qty_received"], unit_price="0") for ln in lines],
            charges=[], received_at=now, source_ref=None, note=f"exchange for {row['number']}",
            replacement=Replacement(row["id"], row["number"], rules.returns.exchange_priority))
        o = c.execute("SELECT id FROM orders WHERE number = ?", (number,)).fetchone()
        return o["id"], number

    def close(self, number: str) -> dict[str, Any]:
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self._locked_row(c, number, now)
            new = policy.transition(ReturnState(row["state"]), "close")
            self._update(c, row, now, state=new.value, closed_at=ts(now))
            self._event(c, row, now, "close", state=new.value)
        return self.detail(number)


def _api_view(detail: dict[str, Any]) -> dict[str, Any]:
    """A return as the HTTP API shows it to a partner (the body of its `return.resolved` webhook)."""
    from db.service.partner_api import PartnerApi

    return PartnerApi._return_view(detail)
