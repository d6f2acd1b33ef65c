"""Shopify's orders/create webhook, on payloads shaped like Shopify's documented example (the sample
order Shopify's admin sends as a test notification: `line_items[]` with sku/quantity/price, a
`customer` with email and names, a `shipping_address` with address1/city/province_code/zip/
country_code), signed as Shopify signs them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from tests.api.conftest import SHOPIFY_SECRET, SKU, Server, add_partner, query
from tests.conftest import run_cli

URL = "/v1/webhooks/shopify/shopify"


def shopify_order(email: str = "jon@example.com", order_id: int = 820982911946154508) -> dict:
    return {
        "id": order_id, "email": email, "closed_at": None, "created_at": "2026-12-01T10:56:18-05:00",
        "number": 234, "note": None, "token": "123456abcd", "gateway": None, "test": True,
        "total_price": "403.00", "subtotal_price": "393.00", "total_weight": 0, "total_tax": "0.00",
        "taxes_included": False, "currency": "USD", "financial_status": "voided", "confirmed": False,
        "total_discounts": "5.00", "name": "#9999", "order_number": 1234,
        "line_items": [
            {"id": 866550311766439020, "variant_id": 808950810, "title": "Coffee beans 1kg", "quantity": 1,
             "sku": SKU, "variant_title": None, "vendor": None, "fulfillment_service": "manual",
             "product_id": 632910392, "requires_shipping": True, "taxable": True, "gift_card": False,
             "name": "Coffee beans 1kg", "price": "199.00", "total_discount": "0.00", "properties": [],
             "tax_lines": [], "discount_allocations": []},
            {"id": 141249953214522974, "variant_id": 808950810, "title": "Tea", "quantity": 3,
             "sku": "BEV-0002", "price": "199.00", "total_discount": "5.00", "properties": [], "tax_lines": []},
        ],
        "shipping_lines": [{"id": 271878346596884015, "title": "Generic Shipping", "price": "10.00",
                            "code": None, "source": "shopify"}],
        "billing_address": {"first_name": "Steve", "address1": "123 Shipping Street", "phone": "555-555-SHIP",
                            "city": "Shippington", "zip": "40003", "province": "Kentucky",
                            "country": "United States", "last_name": "Shipper", "address2": None,
                            "company": "Shipping Company", "latitude": None, "longitude": None,
                            "name": "Steve Shipper", "country_code": "US", "province_code": "KY"},
        "shipping_address": {"first_name": "Steve", "address1": "123 Shipping Street", "phone": "555-555-SHIP",
                             "city": "Shippington", "zip": "40003", "province": "Kentucky",
                             "country": "United States", "last_name": "Shipper", "address2": None,
                             "company": "Shipping Company", "latitude": None, "longitude": None,
                             "name": "Steve Shipper", "country_code": "US", "province_code": "KY"},
        "customer": {"id": 115310627314723954, "email": email, "accepts_marketing": False, "created_at": None,
                     "updated_at": None, "first_name": "John", "last_name": "Smith", "orders_count": 0,
                     "state": "disabled", "total_spent": "0.00", "last_order_id": None, "note": None,
                     "verified_email": True, "phone": None, "tags": "", "currency": "USD"},
    }


def signed(raw: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def deliver(server: Server, payload: dict, webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            sign: str | None = None, topic: str = "orders/create"):  # noqa: ANN201
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Shop-Domain": "example.myshopify.com", "X-Shopify-Api-Version": "2026-10"}
    if sign != "":
        headers["X-Shopify-Hmac-Sha256"] = sign or signed(raw)
    with server.client() as http:
        return http.post(URL, content=raw, headers=headers)


def _counts(server: Server) -> tuple[int, ...]:
    return tuple(server.count(f"SELECT COUNT(*) FROM {t}") for t in
                 ("orders", "customers", "customer_contacts", "api_idempotency", "order_lines"))


def test_a_signed_order_is_taken_with_a_new_customer_and_its_ship_to(server: Server) -> None:
    r = deliver(server, shopify_order())
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    o = query(server.db, "SELECT o.*, c.code, c.name AS cname, c.known FROM orders o JOIN customers c "
                         "ON c.id = o.customer_id WHERE o.number = ?", number)[0]
    assert (o["channel"], o["source_ref"], o["cname"], o["known"]) == ("online", "shopify:820982911946154508",
                                                                         "John Smith", 1)
    assert query(server.db, "SELECT email FROM customer_contacts WHERE customer_id = ?", o["customer_id"])[0][0] == \
        "jon@example.com"
    lines = query(server.db, "SELECT sku, qty, unit_price_e4 FROM order_lines WHERE order_id = ? ORDER BY line_no",
                  o["id"])
    prices = {r[0]: r[1] for r in query(server.db, "SELECT sku, price_e4 FROM products")}
    # the partner may not set prices: the list price applies, not Shopify's "199.00"
    assert [tuple(x) for x in lines] == [(SKU, 1, prices[SKU]), ("BEV-0002", 3, prices["BEV-0002"])]
    ship = json.loads(o["ship_to"])
    assert (ship["name"], ship["street"], ship["city"], ship["region"], ship["postcode"], ship["country"]) == \
        ("Steve Shipper", ["123 Shipping Street"], "Shippington", "KY", "40003", "US")
    assert run_cli("--db", str(server.db), "check").returncode == 0


def test_the_same_delivery_again_replays_and_the_same_email_is_the_same_customer(server: Server) -> None:
    first = deliver(server, shopify_order())
    before = _counts(server)
    again = deliver(server, shopify_order())
    assert again.status_code == 201 and again.json() == first.json() and _counts(server) == before
    second = deliver(server, shopify_order(email="JON@example.com", order_id=820982911946154509), webhook_id="w-2")
    assert second.status_code == 201
    cust = query(server.db, "SELECT customer_id FROM orders WHERE number IN (?, ?)", first.json()["number"],
                 second.json()["number"])
    assert len({r[0] for r in cust}) == 1
    resend = deliver(server, shopify_order(), webhook_id="w-3")  # the same Shopify order under a new delivery id
    assert resend.status_code == 409 and resend.json()["error"]["number"] == first.json()["number"]


def test_a_bad_or_missing_signature_is_401_and_writes_nothing(server: Server) -> None:
    before = _counts(server)
    wrong_secret = deliver(server, shopify_order(), sign=signed(json.dumps(shopify_order()).encode(), "x" * 64))
    missing = deliver(server, shopify_order(), sign="")
    garbage = deliver(server, shopify_order(), sign="not base64 at all ===")
    assert [r.status_code for r in (wrong_secret, missing, garbage)] == [401, 401, 401]
    assert wrong_secret.json()["error"]["field"] == "x-shopify-hmac-sha256"
    assert _counts(server) == before
    why = [json.loads(r[0])["why"] for r in query(server.db, "SELECT data FROM events WHERE entity = 'partner' "
                                                             "AND action = 'refused' ORDER BY id")]
    assert why[-3:] == ["shopify webhook: bad signature", "shopify webhook: missing signature",
                        "shopify webhook: bad signature"]


def test_a_partner_without_a_secret_or_unknown_is_401(server: Server) -> None:
    raw = json.dumps(shopify_order()).encode()
    with server.client() as http:
        for url in ("/v1/webhooks/shopify/shop", "/v1/webhooks/shopify/nobody"):
            r = http.post(url, content=raw, headers={"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                                                     "X-Shopify-Webhook-Id": "w", "X-Shopify-Hmac-Sha256": signed(raw)})
            assert r.status_code == 401


def test_prices_from_a_pricing_partner_and_other_topics_ignored(server: Server) -> None:
    add_partner(server.db, "pricing-shop", may_set_prices=True, webhook_secret=SHOPIFY_SECRET)
    raw = json.dumps(shopify_order()).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "p-1",
               "X-Shopify-Hmac-Sha256": signed(raw)}
    with server.client() as http:
        r = http.post("/v1/webhooks/shopify/pricing-shop", content=raw, headers=headers)
        ignored = http.post("/v1/webhooks/shopify/pricing-shop", content=raw,
                            headers={**headers, "X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": "p-2"})
    assert r.status_code == 201 and r.json()["total"] == "796.00"  # 1 + 3 at Shopify's 199.00
    assert ignored.status_code == 200 and "orders/updated" in ignored.json()["ignored"]


def test_an_unknown_sku_is_taken_and_queued_for_a_rep_with_the_sku_named(server: Server) -> None:
    """A real desk takes what the buyer paid for and lets a rep find the item (as for EDI)."""
    payload = shopify_order(email="unknown-sku@example.com", order_id=820982911946154777)
    payload["line_items"][1]["sku"] = "NOT-OURS-9"
    r = deliver(server, payload, webhook_id="c0ffee00-0000-4000-8000-000000000777")
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["state"] == "queued" and "unknown SKU 'NOT-OURS-9' x 3" in got["queue_reason"], got
    lines = query(server.db, "SELECT sku, qty FROM order_lines WHERE order_id = (SELECT id FROM orders "
                             "WHERE number = ?)", got["number"])
    assert [tuple(ln) for ln in lines] == [(SKU, 1)]  # the known line is kept; the rep adds the other
