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
- Idempotency (IETF draft "The Idempotency-Key HTTP Header Field"): a key is first reserved as
  'in_flight' in a short transaction of its own, so a request with the same key in any API process
  on the database gets 409 while the first is handled; the order's own transaction marks it 'done'
  with the response. The same key and body then replay that response and write nothing; the same
  key with another body is refused (422). A refused order frees its key. A key is kept KEY_KEPT
  (24 h, as the draft suggests) after its order; then it is forgotten and may be used again (the
  external reference still catches a resend). A reservation older than IN_FLIGHT_EXPIRES belongs to
  a request that died (its process was killed): the next request takes the key over.
- In a threaded server the key is checked (in this process's in-flight set, then with one WAL read)
  before the request waits for its turn at the write lock (the server's WriterSlot), so a twin gets
  its 409 at once however long the queue; the reservation and the order then share one turn.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
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
from db.service.order_header import HeaderInput
from db.service.orders import LineInput, OrderService
from db.service.partners import Partner
from db.store import Store

#: what a partner's requests may do; the API offers no claim, tick or release, so ORDER_WORK is used
#: only by cancel-before-release, and RETURN_WORK only by a return request
PARTNER_ACTIONS = frozenset({Action.ORDER_CREATE, Action.ORDER_VIEW, Action.ORDER_WORK, Action.RETURN_VIEW,
                             Action.RETURN_WORK})
#: the longest Idempotency-Key (the draft sets none; a UUID is 36)
KEY_MAX = 255
#: the longest external reference (a Shopify order id is 13 digits; an EDI PO number up to 22)
REF_MAX = 100
PAGE_MAX = 200
#: how long an Idempotency-Key is kept after its order (the IETF draft suggests 24 h)
KEY_KEPT_S = 24 * 3600
#: a reservation older than this was left by a request that died: far past any request's time
#: (the write lock's 5 s busy timeout and an order's milliseconds)
IN_FLIGHT_EXPIRES_S = 60
#: at most one purge of expired keys per process this often (a DELETE inside the write lock)
PURGE_EVERY_S = 60


IN_FLIGHT = "a request with this Idempotency-Key is still being handled; retry when it is done"


class InFlight(Conflict):
    code = "in_flight"


class KeyReused(ValidationError):
    """The draft's 422: the key was used before with another body."""

    code = "idempotency_key_reused"


class Duplicate(Conflict):
    """The partner sent this external reference before; `number` is the order it made."""

    code = "duplicate"

    def __init__(self, message: str, *, number: str) -> None:
        super().__init__(message, field="external_ref")
        self.number = number


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


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


_last_purge = 0.0
#: keys whose request this process is handling: the 409 for a twin arriving while the first still
#: waits for the write lock to reserve its key (the database row covers the other processes)
_in_flight: set[tuple[int, str]] = set()
_in_flight_lock = threading.Lock()


@contextmanager
def _flight(partner_id: int, key: str | None) -> Iterator[None]:
    if key is None:
        yield
        return
    slot = (partner_id, key)
    with _in_flight_lock:
        if slot in _in_flight:
            raise InFlight(IN_FLIGHT, field="idempotency-key")
        _in_flight.add(slot)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(slot)


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise ValidationError(f"Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters",
                              field="idempotency-key")
    return key


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

    # ---- idempotency keys ---------------------------------------------------------------------
    def _reserve(self, key: str, fingerprint: str, now: float) -> tuple[str | None, Answer | None]:
        """(this request's reservation token, None), or (None, the stored answer to replay); refuses a
        key in flight (409) or used with another body (422). The key is first looked up without the
        write lock (a WAL read): a twin of a request that another process is handling sees its
        reservation at once and gets 409, and a replay writes nothing and waits for no one. A new key
        is then reserved in a transaction of its own, committed at once, so every process sees it."""
        answer = self._looked_up(key, fingerprint, now)
        if answer is not None:
            return None, answer
        return self._take(key, fingerprint, now)

    def _looked_up(self, key: str, fingerprint: str, now: float) -> Answer | None:
        """One SELECT outside any transaction: its own snapshot, so no BEGIN … COMMIT around it."""
        return self._stored(self.ctx.store.conn, key, fingerprint, now)

    def _take(self, key: str, fingerprint: str, now: float) -> tuple[str | None, Answer | None]:
        """The write half of `_reserve`."""
        global _last_purge
        with self.ctx.write() as c:  # the partner's own gate: a disabled partner reserves nothing
            if now - _last_purge > PURGE_EVERY_S:
                _last_purge = now
                c.execute("DELETE FROM api_idempotency WHERE created_at < ? OR (state = 'in_flight' AND created_at < ?)",
                          (now - KEY_KEPT_S, now - IN_FLIGHT_EXPIRES_S))
            answer = self._stored(c, key, fingerprint, now)  # again: another process may have come between
            if answer is not None:
                return None, answer
            token = secrets.token_hex(8)
            c.execute("INSERT INTO api_idempotency (partner_id, idem_key, fingerprint, status, response, "
                      "created_at, state, token) VALUES (?,?,?,0,'',?,'in_flight',?) ON CONFLICT (partner_id, idem_key)"
                      " DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, response = '',"
                      " created_at = excluded.created_at, state = 'in_flight', token = excluded.token",
                      (self.partner.id, key, fingerprint, now, token))
        return token, None

    def _stored(self, c: Connection, key: str, fingerprint: str, now: float) -> Answer | None:
        """The answer stored for this key (a replay), None for a key unknown or expired; raises for a
        key in flight or used with another body."""
        row = c.execute("SELECT state, fingerprint, status, response, created_at FROM api_idempotency "
                        "WHERE partner_id = ? AND idem_key = ?", (self.partner.id, key)).fetchone()
        if row is None or row["created_at"] < now - (IN_FLIGHT_EXPIRES_S if row["state"] == "in_flight" else KEY_KEPT_S):
            return None
        if row["fingerprint"] != fingerprint:
            raise KeyReused(f"this Idempotency-Key was used with a different request body in the last "
                            f"{KEY_KEPT_S // 3600} h (keys are kept {KEY_KEPT_S // 3600} h)", field="idempotency-key")
        if row["state"] == "in_flight":
            raise InFlight(IN_FLIGHT, field="idempotency-key")
        return Answer(row["status"], json.loads(row["response"]), replayed=True)

    def _free(self, key: str, token: str) -> None:
        """A refused order frees its key (nothing was made under it). Best effort: if even this fails,
        the reservation expires after IN_FLIGHT_EXPIRES_S. Not through the partner's gate: a partner
        disabled meanwhile is why the order was refused, and its key must still be freed."""
        try:
            with self.ctx.store.write() as c:
                c.execute("DELETE FROM api_idempotency WHERE partner_id = ? AND idem_key = ? AND token = ? "
                          "AND state = 'in_flight'", (self.partner.id, key, token))
        except Exception:  # noqa: BLE001 - the order's own refusal is what the caller must see
            pass

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
        with _flight(self.partner.id, key):  # a twin in this process gets its 409 here, before any wait
            if key is not None:
                replay = self._looked_up(key, fingerprint, ts(now))
                if replay is not None:
                    return replay
            # one turn at this process's write lock for the key's reservation and the order (WriterSlot)
            with self.ctx.store.writer_turn():
                token = None
                if key is not None:
                    token, replay = self._take(key, fingerprint, ts(now))
                    if replay is not None:
                        return replay
                try:
                    body = self._create(req, ext, now, customer_for, key, token)
                except BaseException:
                    if key is not None and token is not None:
                        self._free(key, token)
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
            number = self._orders._create_in(
                c, now=now, customer=customer_for(c) if customer_for else self._customer(req.customer),
                channel=Channel(self.partner.channel), type=req.type, lines=req.lines, charges=[], received_at=now,
                source_ref=source_ref, note=None, header=req.header, typed=False, needs_rep=req.needs_rep)
            row = c.execute("UPDATE orders SET partner_id = ? WHERE number = ? "
                            "RETURNING number, state, queue_reason, total_cents, due_at",
                            (self.partner.id, number)).fetchall()[0]
            body = {"number": row["number"], "state": row["state"], "queue_reason": row["queue_reason"],
                    "total": str(from_cents_int(row["total_cents"])), "due_at": iso(row["due_at"]),
                    "external_ref": ext}
            if key is not None:
                done = c.execute("UPDATE api_idempotency SET state = 'done', status = 201, response = ?, created_at = ? "
                                 "WHERE partner_id = ? AND idem_key = ? AND token = ?",
                                 (json.dumps(body), ts(now), self.partner.id, key, token)).rowcount
                if not done:  # our reservation expired and another request took the key over
                    raise InFlight("this Idempotency-Key was taken over by another request; retry to see its answer",
                                   field="idempotency-key")
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
