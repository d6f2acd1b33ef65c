"""POST/GET /v1/orders and cancel, against a real `orderq api` process with a real HTTP client."""
from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from tests.api.conftest import SKU, Server, clean_customer, query
from tests.conftest import run_cli
from tests.helpers import wait_for


def _order(customer: str, qty: int = 2, **extra: object) -> dict:
    return {"customer": customer, "lines": [{"sku": SKU, "qty": qty}], **extra}


def test_same_key_twice_makes_one_order_and_replays_the_answer(server: Server) -> None:
    cust = clean_customer(server.db)
    body = _order(cust, external_ref="W-1001")
    with server.client("shop") as http:
        first = http.post("/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
        events_after_first = server.count("SELECT COUNT(*) FROM events")
        again = http.post("/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    got = first.json()
    assert set(got) >= {"number", "state", "queue_reason", "total", "due_at"}
    assert got["state"] == "released" and got["queue_reason"] is None  # a clean online order goes straight through
    assert got["total"] == "7.98" and isinstance(got["total"], str)
    assert again.status_code == 201 and again.json() == got and again.headers["Idempotent-Replayed"] == "true"
    assert server.count("SELECT COUNT(*) FROM orders WHERE source_ref = 'shop:W-1001'") == 1
    assert server.count("SELECT COUNT(*) FROM events") == events_after_first  # the replay wrote nothing
    row = query(server.db, "SELECT channel, straight_through, created_by FROM orders WHERE number = ?", got["number"])[0]
    assert tuple(row) == ("online", 1, "partner:shop")


def test_an_api_order_is_the_row_order_entry_writes_with_its_partner_and_stock_taken(server: Server) -> None:
    """The API's creation writes its partner, the customer's default ship-to and a released line's
    allocation in the INSERTs themselves (bench_api: fewer statements under the write lock): what a
    user sees of the order must be what live entry gives, with the partner on it and no backorder."""
    cust = clean_customer(server.db)
    stock = server.count(f"SELECT stock FROM products WHERE sku = '{SKU}'")
    with server.client("shop") as http:
        r = http.post("/v1/orders", json=_order(cust, qty=3, external_ref="W-row"))
    assert r.status_code == 201 and r.json()["state"] == "released", r.text
    number = r.json()["number"]
    o = query(server.db, "SELECT o.*, p.name AS partner FROM orders o JOIN partners p ON p.id = o.partner_id "
                         "WHERE o.number = ?", number)[0]
    default = query(server.db, "SELECT a.name FROM customer_addresses a JOIN customers c ON c.id = a.customer_id "
                               "WHERE c.code = ? AND a.kind = 'ship_to' AND a.is_default = 1", cust)
    assert o["partner"] == "shop" and o["source_ref"] == "shop:W-row" and o["released_by"] == "system"
    assert (json.loads(o["ship_to"])["name"] if o["ship_to"] else None) == (default[0]["name"] if default else None)
    lines = query(server.db, "SELECT qty, qty_allocated FROM order_lines WHERE order_id = ?", o["id"])
    assert [tuple(ln) for ln in lines] == [(3, 3)]  # allocated: nothing backordered
    assert server.count(f"SELECT stock FROM products WHERE sku = '{SKU}'") == stock - 3
    shown = run_cli("--db", str(server.db), "order", "show", number, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["state"] == "released"


def test_same_key_other_body_is_422_and_no_key_is_401(server: Server) -> None:
    cust = clean_customer(server.db)
    with server.client("shop") as http:
        assert http.post("/v1/orders", json=_order(cust), headers={"Idempotency-Key": "k-2"}).status_code == 201
        other = http.post("/v1/orders", json=_order(cust, qty=3), headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 422 and other.json()["error"]["field"] == "idempotency-key"
    before = server.count("SELECT COUNT(*) FROM orders")
    with server.client() as anon:
        none = anon.post("/v1/orders", json=_order(cust))
        wrong = anon.post("/v1/orders", json=_order(cust), headers={"Authorization": "Bearer oq_not-a-key"})
    assert none.status_code == 401 and wrong.status_code == 401
    assert none.json()["error"]["field"] == "authorization" and none.headers["WWW-Authenticate"] == "Bearer"
    assert server.count("SELECT COUNT(*) FROM orders") == before
    refused = query(server.db, "SELECT data FROM events WHERE entity = 'partner' AND action = 'refused' ORDER BY id")
    assert [r[0] for r in refused][-2:] == ['{"action":"api","why":"no key"}',
                                            '{"action":"api","key_prefix":"oq_not-a-ke","why":"unknown key"}']


def test_disabled_partner_gets_403_at_once(server: Server) -> None:
    from db.service import Desk
    from db.store import Store

    cust = clean_customer(server.db)
    with server.client("shop") as http:
        assert http.post("/v1/orders", json=_order(cust)).status_code == 201
        store = Store.open(server.db)
        Desk.operator(store).partners.disable("shop")
        store.close()
        r = http.post("/v1/orders", json=_order(cust))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert server.count("SELECT COUNT(*) FROM events WHERE actor = 'partner:shop' AND action = 'refused'") == 1


def test_an_order_that_needs_a_rep_is_queued_with_its_reason(server: Server) -> None:
    with server.client("shop") as http:
        r = http.post("/v1/orders", json=_order(clean_customer(server.db), type="rush"))
    assert r.status_code == 201
    assert r.json()["state"] == "queued" and r.json()["queue_reason"] == "type rush needs a rep"


def test_an_external_ref_sent_again_is_a_duplicate(server: Server) -> None:
    cust = clean_customer(server.db)
    with server.client("shop") as http:
        first = http.post("/v1/orders", json=_order(cust, external_ref="W-7"))
        dup = http.post("/v1/orders", json=_order(cust, external_ref="W-7"))
        found = http.get("/v1/orders", params={"external_ref": "W-7"}).json()["orders"]
    with server.client("pricer") as other:  # another partner's W-7 is its own order
        assert other.post("/v1/orders", json=_order(cust, external_ref="W-7")).status_code == 201
    assert dup.status_code == 409
    assert dup.json()["error"] | {} == {"code": "duplicate", "field": "external_ref", "number": first.json()["number"],
                                        "message": dup.json()["error"]["message"]}
    assert [o["number"] for o in found] == [first.json()["number"]] and found[0]["external_ref"] == "W-7"


@pytest.mark.sqlite_only("holds SQLite's write lock from outside (BEGIN IMMEDIATE) while requests queue")
def test_a_key_still_in_flight_gets_409_and_one_order_is_made(one_process_server: Server) -> None:
    """The database's write lock is held from outside, so the first request waits inside its
    transaction; the second with the same key, meanwhile, is refused with 409 (in one process)."""
    server = one_process_server
    cust = clean_customer(server.db)
    results: list[int] = []
    lock = sqlite3.connect(server.db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        def post() -> None:
            with server.client("shop") as http:
                results.append(http.post("/v1/orders", json=_order(cust), headers={"Idempotency-Key": "k-fly"}).status_code)

        threads = [threading.Thread(target=post) for _ in range(2)]
        for t in threads:
            t.start()
        wait_for(lambda: 409 in results, timeout=4.5, what="a 409 for the key in flight")  # under busy_timeout
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [201, 409]
    assert server.count("SELECT COUNT(*) FROM api_idempotency WHERE idem_key = 'k-fly'") == 1


def test_a_partner_tied_to_a_customer_sees_only_its_orders(server: Server) -> None:
    with server.client("tied") as tied, server.client("shop") as shop:
        mine = tied.post("/v1/orders", json={"lines": [{"sku": SKU, "qty": 1}]})  # the customer is the partner's
        assert mine.status_code == 201, mine.text
        other = query(server.db, "SELECT number FROM orders WHERE customer_id != "
                                 "(SELECT id FROM customers WHERE code = 'C00003') LIMIT 1")[0][0]
        assert tied.get(f"/v1/orders/{other}").status_code == 404
        assert tied.get(f"/v1/orders/{mine.json()['number']}").json()["customer"] == "C00003"
        refused = tied.post("/v1/orders", json=_order(clean_customer(server.db)))
        assert shop.get(f"/v1/orders/{mine.json()['number']}").status_code == 404  # not shop's
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "customer"


def test_updated_since_pages_every_change_once_by_an_opaque_cursor(server: Server) -> None:
    cust = clean_customer(server.db)
    with server.client("shop") as http:
        made = [http.post("/v1/orders", json=_order(cust, type="rush")).json()["number"] for _ in range(3)]
        seen, cursor = [], None
        for _ in range(10):
            page = http.get("/v1/orders", params={"limit": 2, **({"updated_since": cursor} if cursor else {})}).json()
            seen += [o["number"] for o in page["orders"]]
            cursor = page["next_cursor"]
            if not page["more"]:
                break
        assert seen == made
        assert http.get("/v1/orders", params={"updated_since": cursor}).json()["orders"] == []
        assert http.post(f"/v1/orders/{made[0]}/cancel", json={"reason": "customer changed their mind"}).status_code == 200
        after = http.get("/v1/orders", params={"updated_since": cursor}).json()["orders"]
        bad = http.get("/v1/orders", params={"updated_since": "not-a-cursor"})
    assert [(o["number"], o["state"]) for o in after] == [(made[0], "cancelled")]
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "updated_since"


def test_cancel_only_before_release(server: Server) -> None:
    cust = clean_customer(server.db)
    with server.client("shop") as http:
        released = http.post("/v1/orders", json=_order(cust)).json()
        queued = http.post("/v1/orders", json=_order(cust, type="rush")).json()
        refused = http.post(f"/v1/orders/{released['number']}/cancel", json={})
        done = http.post(f"/v1/orders/{queued['number']}/cancel", json={})
    assert refused.status_code == 409 and "before release" in refused.json()["error"]["message"]
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    assert query(server.db, "SELECT state FROM orders WHERE number = ?", released["number"])[0][0] == "released"


def test_a_price_is_taken_only_from_a_partner_that_may_set_prices(server: Server) -> None:
    cust = clean_customer(server.db)
    body = {"customer": cust, "lines": [{"sku": SKU, "qty": 2, "price": "1.50"}]}
    with server.client("shop") as shop, server.client("pricer") as pricer:
        refused = shop.post("/v1/orders", json=body)
        taken = pricer.post("/v1/orders", json=body)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "lines.1.price"
    assert taken.status_code == 201 and taken.json()["total"] == "3.00"


def test_products_are_the_active_ones_with_price_and_availability(server: Server) -> None:
    with server.client("shop") as http:
        got = http.get("/v1/products").json()["products"]
    active = {r[0]: r[1] for r in query(server.db, "SELECT sku, stock FROM products WHERE active = 1")}
    assert {p["sku"] for p in got} == set(active)
    bev = next(p for p in got if p["sku"] == SKU)
    assert bev["available"] == active[SKU] and bev["price"] == "3.9900"


def test_one_log_line_per_request_without_keys_or_bodies(server: Server) -> None:
    with server.client("shop") as http:
        http.post("/v1/orders", json=_order(clean_customer(server.db), note="secret-note-text"))
        http.get("/v1/orders", params={"external_ref": "private-ref"})
    lines = wait_for(lambda: [ln for ln in server.log_text().splitlines() if "path=/v1/orders" in ln][-2:] or None,
                     what="the request log lines")
    assert "partner=shop method=POST path=/v1/orders status=201 duration_ms=" in lines[0]
    assert "partner=shop method=GET path=/v1/orders status=200" in lines[1]
    text = server.log_text()
    assert server.keys["shop"] not in text and "secret-note-text" not in text and "private-ref" not in text


def test_sixteen_clients_at_once_each_get_their_order(server: Server) -> None:
    """Under concurrent requests each handler must use its own thread's connection: a dependency and its
    handler may run on two pool threads, and sharing one connection between them interleaved two
    transactions (bench_api found requests stuck 5 s and refused as busy)."""
    cust = clean_customer(server.db)
    statuses: list[int] = []

    def client(i: int) -> None:
        with server.client("shop") as http:
            for j in range(4):
                statuses.append(http.post("/v1/orders", json=_order(cust, qty=1, external_ref=f"C-{i}-{j}"),
                                          headers={"Idempotency-Key": f"c-{i}-{j}"}).status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [201] * 64
    assert server.count("SELECT COUNT(*) FROM orders WHERE source_ref LIKE 'shop:C-%'") == 64
    assert run_cli("--db", str(server.db), "check").returncode == 0  # state, stock, events and chain agree
