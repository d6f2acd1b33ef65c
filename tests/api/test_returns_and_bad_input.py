"""POST/GET /v1/returns, and bad input: a 4xx with a JSON body naming the field, and nothing written."""
from __future__ import annotations

import pytest

from db.service import Desk
from db.store import Store
from tests.api.conftest import SKU, Server, clean_customer


def _shipped_order(server: Server, partner: str = "shop") -> str:
    with server.client(partner) as http:
        made = http.post("/v1/orders", json={"customer": clean_customer(server.db), "lines": [{"sku": SKU, "qty": 4}]})
    assert made.json()["state"] == "released"
    store = Store.open(server.db)
    try:
        Desk.for_user(store, "alice").orders.ship(made.json()["number"])
    finally:
        store.close()
    return made.json()["number"]


def test_a_return_request_answers_with_its_rma_state_and_expected_refund(server: Server) -> None:
    number = _shipped_order(server)
    body = {"order": number, "resolution": "refund", "lines": [{"sku": SKU, "qty": 1, "reason": "damaged"}]}
    with server.client("shop") as http, server.client("pricer") as other:
        made = http.post("/v1/returns", json=body)
        too_many = http.post("/v1/returns", json={**body, "lines": [{"sku": SKU, "qty": 9, "reason": "damaged"}]})
        assert other.post("/v1/returns", json=body).status_code == 404  # not pricer's order
        got = http.get(f"/v1/returns/{made.json()['number']}")
        assert other.get(f"/v1/returns/{made.json()['number']}").status_code == 404
    assert made.status_code == 201, made.text
    rma = made.json()
    assert rma["number"].startswith("RMA-") and rma["state"] == "requested" and rma["refund"] == "3.99"
    assert got.json() == rma
    assert too_many.status_code == 422 and too_many.json()["error"]["field"]


def test_a_return_against_an_order_not_shipped_is_refused(server: Server) -> None:
    with server.client("shop") as http:
        number = http.post("/v1/orders", json={"customer": clean_customer(server.db),
                                               "lines": [{"sku": SKU, "qty": 1}]}).json()["number"]
        r = http.post("/v1/returns", json={"order": number, "resolution": "refund",
                                           "lines": [{"sku": SKU, "qty": 1, "reason": "damaged"}]})
    assert r.status_code == 422 and "only shipped orders" in r.json()["error"]["message"]


CASES = [
    # (what, how to send it, status, field)
    ("malformed JSON", {"content": b'{"customer": "C00001", "lines": [', "ctype": "application/json"}, 400, "body"),
    ("wrong content type", {"content": b"customer=C00001", "ctype": "application/x-www-form-urlencoded"}, 415,
     "content-type"),
    ("unknown SKU", {"json": {"lines": [{"sku": "NO-SUCH", "qty": 1}]}}, 422, "lines.1.sku"),
    ("unknown customer", {"json": {"customer": "C99999", "lines": [{"sku": SKU, "qty": 1}]}}, 422, "customer"),
    ("quantity 0", {"json": {"lines": [{"sku": SKU, "qty": 0}]}}, 422, "lines.1.qty"),
    ("quantity too large", {"json": {"lines": [{"sku": SKU, "qty": 10**9}]}}, 422, "lines.1.qty"),
    ("quantity a float", {"json": {"lines": [{"sku": SKU, "qty": 1.5}]}}, 422, "lines.1.qty"),
    ("unknown field", {"json": {"lines": [{"sku": SKU, "qty": 1}], "extrnal_ref": "W1"}}, 422, "extrnal_ref"),
    ("unknown line field", {"json": {"lines": [{"sku": SKU, "qty": 1, "colour": "red"}]}}, 422, "lines.1.colour"),
    ("no lines", {"json": {"lines": []}}, 422, "lines"),
    ("unknown type", {"json": {"lines": [{"sku": SKU, "qty": 1}], "type": "express"}}, 422, "type"),
    ("price as a number", {"json": {"lines": [{"sku": SKU, "qty": 1, "price": 1.5}]}}, 422, "lines.1.price"),
    ("over the size limit", {"json": {"lines": [{"sku": SKU, "qty": 1}], "note": "x" * 300_000}}, 413, "body"),
    ("incomplete ship-to", {"json": {"lines": [{"sku": SKU, "qty": 1}], "ship_to": {"name": "A"}}}, 422, "ship_to.street"),
]


@pytest.mark.parametrize("what,send,status,field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(server: Server, what: str, send: dict, status: int,
                                                               field: str) -> None:
    cust = clean_customer(server.db)
    if "json" in send and "customer" not in send["json"]:
        send = {"json": {"customer": cust, **send["json"]}}
    before = (server.count("SELECT COUNT(*) FROM orders"), server.count("SELECT COUNT(*) FROM events"))
    with server.client("shop") as http:
        if "json" in send:
            r = http.post("/v1/orders", json=send["json"])
        else:
            r = http.post("/v1/orders", content=send["content"], headers={"Content-Type": send["ctype"]})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["field"] == field and err["message"]
    assert (server.count("SELECT COUNT(*) FROM orders"), server.count("SELECT COUNT(*) FROM events")) == before


def test_unknown_paths_and_methods_answer_json(server: Server) -> None:
    with server.client("shop") as http:
        missing = http.get("/v1/nothing-here")
        method = http.delete("/v1/orders")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "path"
    assert method.status_code == 405 and method.json()["error"]["code"]
