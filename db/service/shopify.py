"""Shopify's `orders/create` webhook, received for one partner (POST /v1/webhooks/shopify/{partner}).

- The signature comes first: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body under
  the partner's webhook secret, compared in constant time. Missing, wrong, or a partner with no
  secret (or no such partner): 401, and nothing but the refusal's event is written.
- `X-Shopify-Webhook-Id` is the delivery's idempotency key ("shopify:ID"): Shopify re-sends a
  delivery it saw no 2xx for, with the same id, and the re-send replays the first answer. The Shopify
  order id is the external reference, so the same order sent twice under two ids is a duplicate.
- Mapping: `line_items[].sku`, `quantity` and `price` (the price only when the partner may set
  prices; else the list price applies), the buyer matched on email among customers' contacts (a new
  email is a new customer with its contact, on the rules' `[new_customers]`), and
  `shipping_address` as the order's one-off ship-to. Other topics are acknowledged and ignored.
- A line whose SKU we do not sell does not refuse the order: it is left out, and the order is
  queued for a rep with each such SKU and quantity in its reason (SPEC §1: an item code that does
  not resolve queues the order; it never rejects it).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from core.addresses import source_address
from core.errors import PermissionDenied, Unauthenticated, ValidationError
from core.money import to_cents_int
from db.dbapi import Connection
from db.service.customers import CustomerService
from db.service.order_header import HeaderInput
from db.service.orders import LineInput
from db.service.partner_api import Answer, OrderRequest, PartnerApi
from db.service.partners import Partner, get_partner, log_refusal, webhook_secret
from db.store import Store

TOPIC = "orders/create"
#: unknown SKUs named in the queue reason (the rest counted)
UNKNOWN_SHOWN = 5


def signature(secret: str, raw: bytes) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256 for this body."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()).decode("ascii")


def _signed_partner(store: Store, name: str, raw: bytes, sent: str | None) -> Partner:
    partner = get_partner(store.conn, name)
    secret = webhook_secret(store.conn, partner.id) if partner else None
    ok = secret is not None and sent is not None and hmac.compare_digest(
        signature(secret, raw).encode("ascii"), sent.strip().encode("utf-8", "replace"))
    if not ok:
        why = "no such partner" if partner is None else ("no webhook secret" if secret is None else
                                                          "missing signature" if not sent else "bad signature")
        log_refusal(store, why=f"shopify webhook: {why}", partner=partner, shown=None)
        raise Unauthenticated("the webhook's X-Shopify-Hmac-Sha256 signature does not verify",
                              field="x-shopify-hmac-sha256")
    if not partner.active:  # type: ignore[union-attr]
        log_refusal(store, why="shopify webhook: partner disabled", partner=partner, shown=None)
        raise PermissionDenied(f"partner {name!r} is disabled", field="partner")
    return partner  # type: ignore[return-value]


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _lines(payload: dict[str, Any], may_set_prices: bool) -> list[LineInput]:
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise ValidationError("line_items is empty or not a list", field="line_items")
    out = []
    for i, it in enumerate(items, start=1):
        if not isinstance(it, dict):
            raise ValidationError(f"line_items {i} is not an object", field=f"line_items.{i}")
        sku = _text(it.get("sku"))
        if not sku:
            raise ValidationError(f"line_items {i} has no sku", field=f"line_items.{i}.sku")
        qty = it.get("quantity")
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise ValidationError(f"line_items {i}: quantity is not a whole number", field=f"line_items.{i}.quantity")
        price = it.get("price") if may_set_prices else None
        out.append(LineInput(sku=sku, qty=qty, unit_price=None if price is None else str(price)))
    return out


def _known(store: Store, lines: list[LineInput]) -> tuple[list[LineInput], str | None]:
    """The lines whose SKU we sell, and the queue reason naming the others (SKU, quantity, line):
    the order is taken and a rep finds the item, as for an EDI order's unknown item code, instead of
    Shopify being refused for what its buyer already paid for."""
    skus = {(ln.sku or "").strip().upper() for ln in lines}
    known = {r[0] for r in store.conn.execute(
        f"SELECT sku FROM products WHERE sku IN ({','.join('?' * len(skus))})", tuple(skus))}
    unknown = [(i, ln) for i, ln in enumerate(lines, start=1) if (ln.sku or "").strip().upper() not in known]
    if not unknown:
        return lines, None
    shown = [f"Shopify line {i}: unknown SKU {ln.sku!r} x {ln.qty}" for i, ln in unknown[:UNKNOWN_SHOWN]]
    more = len(unknown) - UNKNOWN_SHOWN
    reason = "; ".join(shown) + (f"; and {more} more unknown SKU(s)" if more > 0 else "")
    return [ln for ln in lines if (ln.sku or "").strip().upper() in known], reason


def _ship_to(payload: dict[str, Any]) -> dict[str, Any] | None:
    a = payload.get("shipping_address")
    if not isinstance(a, dict):
        return None
    name = _text(a.get("name")) or " ".join(x for x in (_text(a.get("first_name")), _text(a.get("last_name"))) if x)
    return source_address({"name": name or _text(a.get("company")),
                           "street": [x for x in (_text(a.get("address1")), _text(a.get("address2"))) if x],
                           "city": a.get("city"), "region": a.get("province_code") or a.get("province"),
                           "postcode": a.get("zip"), "country": a.get("country_code") or a.get("country")})


def _buyer(payload: dict[str, Any]) -> tuple[str, str]:
    """(email, name) of the order's buyer."""
    cust = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    email = _text(cust.get("email") or payload.get("email") or payload.get("contact_email")).lower()
    if not email or "@" not in email or len(email) > 254:
        raise ValidationError("the order has no customer email to match a customer on", field="customer.email")
    name = " ".join(x for x in (_text(cust.get("first_name")), _text(cust.get("last_name"))) if x)
    return email, (name or email)[:100]


def customer_by_email(api: PartnerApi, payload: dict[str, Any]) -> Any:
    """A callback for `create_order`: inside the order's transaction, the customer whose contact has
    the buyer's email, or a new customer (with that contact) on the rules' `[new_customers]`."""
    email, name = _buyer(payload)

    def find_or_make(c: Connection) -> str:
        row = c.execute("SELECT cu.code FROM customer_contacts ct JOIN customers cu ON cu.id = ct.customer_id "
                        "WHERE lower(ct.email) = ? ORDER BY cu.id LIMIT 1", (email,)).fetchone()
        if row is not None:
            return row["code"]
        nc = api.ctx.rules.new_customers
        n = int(c.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM customers").fetchone()[0])
        code = f"C{n:05d}"
        while c.execute("SELECT 1 FROM customers WHERE code = ?", (code,)).fetchone():
            n += 1
            code = f"C{n:05d}"
        limit = to_cents_int(nc.credit_limit)
        cid = int(c.execute("INSERT INTO customers (code, name, tier, credit_limit_cents, known) VALUES (?,?,?,?,?)",
                            (code, name, nc.tier.value, limit, int(nc.known))).lastrowid or 0)
        c.execute("INSERT INTO customer_contacts (customer_id, name, email) VALUES (?,?,?)", (cid, name, email))
        CustomerService(api.ctx)._customer_event(
            c, cid, code, "created", {"name": name, "tier": nc.tier.value, "credit_limit_cents": limit,
                                      "known": nc.known, "contact": email, "from": api.partner.actor}, api.ctx.now())
        return code

    return find_or_make


def receive(store: Store, partner_name: str, raw: bytes, *, topic: str | None, hmac_header: str | None,
            webhook_id: str | None) -> tuple[Partner, Answer]:
    partner = _signed_partner(store, partner_name, raw, hmac_header)
    if (topic or "").strip() != TOPIC:
        return partner, Answer(200, {"ignored": f"topic {topic or '(none)'} is not {TOPIC}"})
    if not (webhook_id or "").strip():
        raise ValidationError("X-Shopify-Webhook-Id is missing", field="x-shopify-webhook-id")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("the body is not JSON", field="body") from None
    if not isinstance(payload, dict):
        raise ValidationError("the body is not a JSON object", field="body")
    api = PartnerApi.open(store, partner)
    ship_to = _ship_to(payload)
    note = _text(payload.get("note"))[:1000] or None
    lines, unknown = _known(store, _lines(payload, partner.may_set_prices))
    req = OrderRequest(lines=lines, needs_rep=unknown,
                       external_ref=_text(payload.get("id")) or None,
                       header=HeaderInput(imported_ship_to=ship_to, note=note) if (ship_to or note) else None)
    find = None if partner.customer is not None else customer_by_email(api, payload)
    answer = api.create_order(req, key=f"shopify:{webhook_id.strip()}"[:255],  # type: ignore[union-attr]
                              fingerprint=hashlib.sha256(raw).hexdigest(), customer_for=find)
    return partner, answer
