"""What a partner may do through the HTTP API, checked here and not in the web layer (SPEC §1: three
faces over one service layer).

- A partner acts as `partner:NAME` in the audit log, with the few actions PARTNER_ACTIONS grants; each
  write re-checks, inside its transaction, that the partner is still enabled (as a user's does).
- A partner tied to one customer sees that customer's orders and returns only; one tied to none sees
  those it sent itself. Anything else is "not found", never "forbidden": a number that exists
  elsewhere tells the partner nothing.
- Orders are made by OrderService's own creation (`_create_in`), so the straight-through decision of
  SPEC §2 is the one live entry and import make. The external reference is the order's `source_ref`
  as "PARTNER:REF", so the one duplicate check of order entry also catches a partner's resend.
- Idempotency-Key (the IETF draft): db/service/idempotency.py. The key's reservation and the order
  take one turn at the server's write lock (WriterSlot), after the key was checked without waiting.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.enums import Channel
from core.errors import Conflict, NotFound, ValidationError
from core.money import from_cents_int, from_price_int
from core.permissions import Action
from db import event_chain
from db.dbapi import Connection, Row
from db.convert import iso, ts
from db.service.context import Actor, Context
from db.service.idempotency import (IN_FLIGHT_EXPIRES_S, KEY_KEPT_S, Answer, IdempotencyKeys, check_key,
                                    flight)
from db.service.order_header import HeaderInput
from db.service.orders import LineInput, OrderService
from db.service.partners import Partner
from db.store import Store

#: what a partner's requests may do; the API offers no claim, tick or release, so ORDER_WORK is used
#: only by cancel-before-release, and RETURN_WORK only by a return request
PARTNER_ACTIONS = frozenset({Action.ORDER_CREATE, Action.ORDER_VIEW, Action.ORDER_WORK, Action.RETURN_VIEW,
                             Action.RETURN_WORK})
#: the longest external reference (a Shopify order id is 13 digits; an EDI PO number up to 22)
REF_MAX = 100
PAGE_MAX = 200
#: what tests and the web layer read from here, kept where they were (db/service/idempotency.py holds them)
__all__ = ["Answer", "IN_FLIGHT_EXPIRES_S", "KEY_KEPT_S", "OrderRequest", "PartnerApi", "order_view"]


class Duplicate(Conflict):
    """The partner sent this external reference before; `number` is the order it made."""

    code = "duplicate"

    def __init__(self, message: str, *, number: str) -> None:
        super().__init__(message, field="external_ref")
        self.number = number


@dataclass(frozen=True)
class OrderRequest:
    lines: list[LineInput]
    customer: str | None = None
    external_ref: str | None = None
    type: str = "standard"
    header: HeaderInput | None = None
    #: why a rep must work it whatever the checks say (a Shopify line with an unknown SKU)
    needs_rep: str | None = None


class PartnerContext(Context):
    """A partner's context: its actions, and its own "still enabled" check inside each write."""

    def __init__(self, store: Store, partner: Partner) -> None:
        super().__init__(store, Actor(partner.actor, None))
        self.partner = partner

    def can(self, action: Action) -> bool:
        return action in PARTNER_ACTIONS

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The partner's gate and the chain's head in one read, the head held for the transaction's
        events (as Context.write does for a user): every statement here is time under the write lock."""
        try:
            with self.store.write() as c:
                active, top = event_chain.flag_and_head(c, "SELECT active FROM partners WHERE id = ?",
                                                        (self.partner.id,))
                if not active:
                    raise _Disabled
                event_chain.hold(c, top)
                try:
                    yield c
                finally:
                    event_chain.release(c)
        except _Disabled:
            self._refuse(f"partner {self.partner.name!r} is disabled", None, {"action": "write", "why": "partner disabled"})


class _Disabled(Exception):
    """Raised inside PartnerContext.write before the command's body runs; turned into PermissionDenied."""


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, n = text.partition(":")
        if tag != "v1" or not n.isdigit() or len(n) > 18:
            raise ValueError
        return int(n)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("updated_since is not a cursor this API gave out", field="updated_since") from None


def order_view(c: Connection, row: Row, prefix: str | None) -> dict[str, Any]:
    """An order as a partner sees it: no claims, notes or internal ids."""
    ref = row["source_ref"]
    lines = c.execute("SELECT line_no, sku, description, qty, unit_price_e4, amount_cents, qty_shipped "
                      "FROM order_lines WHERE order_id = ? ORDER BY line_no", (row["id"],)).fetchall()
    cust = c.execute("SELECT code FROM customers WHERE id = ?", (row["customer_id"],)).fetchone()
    return {
        "number": row["number"], "state": row["state"], "queue_reason": row["queue_reason"],
        "hold_reason": row["hold_reason"], "total": str(from_cents_int(row["total_cents"])),
        "due_at": iso(row["due_at"]), "received_at": iso(row["received_at"]), "released_at": iso(row["released_at"]),
        "shipped_at": iso(row["shipped_at"]), "cancelled_at": iso(row["cancelled_at"]),
        "customer": cust["code"] if cust else None, "type": row["type"], "channel": row["channel"],
        "external_ref": ref[len(prefix):] if prefix and ref and ref.startswith(prefix) else None,
        "po_number": row["po_number"], "ship_to": json.loads(row["ship_to"]) if row["ship_to"] else None,
        "lines": [{"line_no": ln["line_no"], "sku": ln["sku"], "description": ln["description"], "qty": ln["qty"],
                   "unit_price": str(from_price_int(ln["unit_price_e4"])),
                   "amount": str(from_cents_int(ln["amount_cents"])), "qty_shipped": ln["qty_shipped"]}
                  for ln in lines],
    }


class PartnerApi:
    def __init__(self, ctx: PartnerContext) -> None:
        self.ctx = ctx
        self.partner = ctx.partner
        self.prefix = f"{ctx.partner.name}:"
        self._orders = OrderService(ctx)
        self.keys = IdempotencyKeys(ctx.store, ctx.partner.id, ctx.write)

    @classmethod
    def open(cls, store: Store, partner: Partner) -> "PartnerApi":
        return cls(PartnerContext(store, partner))

    # ---- scope --------------------------------------------------------------------------------
    def _scope_sql(self, alias: str = "o") -> tuple[str, tuple[Any, ...]]:
        if self.partner.customer_id is not None:
            return f"{alias}.customer_id = ?", (self.partner.customer_id,)
        return f"{alias}.partner_id = ?", (self.partner.id,)

    def _visible_order(self, c: Connection, number: str) -> Row:
        where, args = self._scope_sql()
        row = c.execute(f"SELECT o.* FROM orders o WHERE o.number = ? AND {where}", ((number or "").upper(), *args)).fetchone()
        if row is None:
            raise NotFound(f"no order {number!r}", field="number")
        return row

    # ---- orders -------------------------------------------------------------------------------
    def _customer(self, typed: str | None) -> str:
        """The order's customer code: exactly as sent (an API client has no type-ahead to confirm a
        guess), and the partner's own customer when it is tied to one."""
        typed = (typed or "").strip() or None
        if self.partner.customer is not None:
            if typed and typed != self.partner.customer:
                raise ValidationError(f"this partner orders for customer {self.partner.customer} only", field="customer")
            return self.partner.customer
        if not typed:
            raise ValidationError("customer is required", field="customer")
        return typed

    def _reserve(self, key: str, fingerprint: str, now: float) -> tuple[str | None, Answer | None]:
        """The key's reservation as a request of this partner makes it (IdempotencyKeys.reserve)."""
        return self.keys.reserve(key, fingerprint, now)

    def create_order(self, req: OrderRequest, *, key: str | None, fingerprint: str,
                     customer_for: Callable[[Connection], str] | None = None) -> Answer:
        """The order, decided at once (released, or queued with its reason), or the stored answer
        for a key already used with this body. `customer_for`: finds or makes the customer inside the
        order's transaction (Shopify's buyer by email), so a refused order leaves no customer behind."""
        self.ctx.require(Action.ORDER_CREATE)
        key = check_key(key)
        if not self.partner.may_set_prices:
            for i, ln in enumerate(req.lines, start=1):
                if ln.unit_price is not None:
                    raise ValidationError(f"line {i}: this partner may not set prices (the list price applies)",
                                          field=f"lines.{i}.price")
        ext = (req.external_ref or "").strip() or None
        if ext is not None and (len(ext) > REF_MAX or not ext.isprintable()):
            raise ValidationError(f"external_ref must be 1 to {REF_MAX} printable characters", field="external_ref")
        self.ctx.rules.request_type(req.type)
        now = self.ctx.now()
        with flight(self.partner.id, key):  # a twin in this process gets its 409 here, before any wait
            if key is not None:
                replay = self.keys.looked_up(key, fingerprint, ts(now))
                if replay is not None:
                    return replay
            # one turn at this process's write lock for the key's reservation and the order (WriterSlot)
            with self.ctx.store.writer_turn():
                token = None
                if key is not None:
                    token, replay = self.keys.take(key, fingerprint, ts(now))
                    if replay is not None:
                        return replay
                try:
                    body = self._create(req, ext, now, customer_for, key, token)
                except BaseException:
                    if key is not None and token is not None:
                        self.keys.free(key, token)
                    raise
        return Answer(201, body)

    def _create(self, req: OrderRequest, ext: str | None, now: Any,
                customer_for: Callable[[Connection], str] | None, key: str | None,
                token: str | None) -> dict[str, Any]:
        with self.ctx.write() as c:
            source_ref = self.prefix + ext if ext else None
            if source_ref:
                dup = c.execute("SELECT number FROM orders WHERE source_ref = ?", (source_ref,)).fetchone()
                if dup is not None:
                    raise Duplicate(f"external_ref {ext!r} was sent before: order {dup['number']}", number=dup["number"])
            made = self._orders._create_row(
                c, now=now, customer=customer_for(c) if customer_for else self._customer(req.customer),
                channel=Channel(self.partner.channel), type=req.type, lines=req.lines, charges=[], received_at=now,
                source_ref=source_ref, note=None, header=req.header, typed=False, needs_rep=req.needs_rep,
                partner_id=self.partner.id, source_ref_checked=True)
            body = {"number": made.number, "state": made.state, "queue_reason": made.queue_reason,
                    "total": str(from_cents_int(made.total_cents)), "due_at": iso(made.due_at), "external_ref": ext}
            if key is not None:
                self.keys.mark_done(c, key, token, body, ts(now))
        return body

    def order(self, number: str) -> dict[str, Any]:
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return order_view(c, self._visible_order(c, number), self.prefix)

    def by_external_ref(self, ref: str) -> list[dict[str, Any]]:
        self.ctx.require(Action.ORDER_VIEW)
        where, args = self._scope_sql()
        with self.ctx.store.read() as c:
            rows = c.execute(f"SELECT o.* FROM orders o WHERE o.source_ref = ? AND {where}",
                             (self.prefix + ref.strip(), *args)).fetchall()
            return [order_view(c, r, self.prefix) for r in rows]

    def changes(self, cursor: str | None, limit: int = 100) -> dict[str, Any]:
        """Orders changed after `cursor`, each once, in the order of their latest change. The cursor is
        the event log's position (ids are given out under the one write lock, so none commits behind it)."""
        self.ctx.require(Action.ORDER_VIEW)
        after = decode_cursor(cursor)
        limit = max(1, min(limit, PAGE_MAX))
        where, args = self._scope_sql()
        with self.ctx.store.read() as c:
            hits = c.execute(
                f"""SELECT e.entity_id AS id, MAX(e.id) AS last FROM events e JOIN orders o ON o.id = e.entity_id
                    WHERE e.entity = 'order' AND e.id > ? AND {where}
                    GROUP BY e.entity_id ORDER BY last LIMIT ?""", (after, *args, limit + 1)).fetchall()
            page = hits[:limit]
            out = [order_view(c, c.execute("SELECT * FROM orders WHERE id = ?", (h["id"],)).fetchone(), self.prefix)
                   for h in page]
            if page:
                end = page[-1]["last"]
            else:  # nothing new: the cursor may move to the log's end, past others' changes
                end = max(after, int(c.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]))
        return {"orders": out, "next_cursor": encode_cursor(end), "more": len(hits) > limit}

    def cancel(self, number: str, reason: str | None) -> dict[str, Any]:
        self.ctx.require(Action.ORDER_WORK, number)
        with self.ctx.store.read() as c:
            row = self._visible_order(c, number)
        self._orders.cancel(row["number"], (reason or "").strip() or f"cancelled by {self.partner.name}",
                            before_release=True)
        return self.order(row["number"])

    # ---- returns and products -----------------------------------------------------------------
    def new_return(self, *, order: str, lines: list[Any], resolution: str, note: str | None) -> dict[str, Any]:
        """The customer's own return request, with the checks of `return new` (ReturnService)."""
        from db.service.returns import ReturnService

        self.ctx.require(Action.RETURN_WORK)
        with self.ctx.store.read() as c:
            row = self._visible_order(c, order)
        detail = ReturnService(self.ctx).new(lines=lines, resolution=resolution, orders=[row["number"]], note=note)
        return self._return_view(detail)

    def get_return(self, number: str) -> dict[str, Any]:
        from db.service.returns import ReturnService

        self.ctx.require(Action.RETURN_VIEW)
        with self.ctx.store.read() as c:
            r = c.execute("SELECT customer_id, requested_by FROM returns WHERE number = ?",
                          ((number or "").upper(),)).fetchone()
        seen = r is not None and (r["customer_id"] == self.partner.customer_id if self.partner.customer_id is not None
                                  else r["requested_by"] == self.partner.actor)
        if not seen:
            raise NotFound(f"no return {number!r}", field="number")
        return self._return_view(ReturnService(self.ctx).detail(number.upper()))

    @staticmethod
    def _return_view(d: dict[str, Any]) -> dict[str, Any]:
        return {"number": d["number"], "state": d["state"], "resolution": d["resolution"], "orders": d["orders"],
                "refund": d["refund_amount"], "refund_final": d["refund_final"], "needs_approval": d["needs_approval"],
                "requested_at": d["requested_at"],
                "lines": [{"order": ln["order"], "sku": ln["sku"], "qty": ln["qty"], "reason": ln["reason"],
                           "qty_received": ln["qty_received"]} for ln in d["lines"]]}

    def products(self) -> list[dict[str, Any]]:
        from db.service.catalog import CatalogService

        return [{"sku": p.sku, "description": p.description, "price": str(p.price), "available": max(p.stock, 0),
                 "category": p.category} for p in CatalogService(self.ctx).products() if p.active]
