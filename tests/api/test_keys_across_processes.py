"""Idempotency-Key across API processes and over time: two real `orderq api` servers on one database.

A key's reservation is a committed row, so the 409 for a key in flight holds whichever process
handles the twin; a reservation left by a request that died expires; a used key is kept 24 h."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.routes import fingerprint
from api.schemas import OrderIn
from db.service.partner_api import IN_FLIGHT_EXPIRES_S, KEY_KEPT_S, OrderRequest, PartnerApi
from db.service.orders import LineInput
from db.service.partners import get_partner
from db.store import Store
from tests.api.conftest import SKU, add_partner, clean_customer, query, start_server, stop_server
from tests.conftest import connect_db


@pytest.fixture
def two(demo_db: Path, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(key, url of server 1, url of server 2), both serving demo_db."""
    key = add_partner(demo_db, "shop")
    p1, u1 = start_server(demo_db, tmp_path / "api1.log")
    try:
        p2, u2 = start_server(demo_db, tmp_path / "api2.log")
        try:
            yield key, u1, u2
        finally:
            stop_server(p2)
    finally:
        stop_server(p1)


def _post(url: str, key: str, body: dict, idem: str) -> httpx.Response:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        return http.post("/v1/orders", json=body, headers={"Idempotency-Key": idem})


def _body(db: Path, qty: int = 1) -> dict:
    return {"customer": clean_customer(db), "lines": [{"sku": SKU, "qty": qty}]}


def _held_elsewhere(db: Path, idem: str, body: dict, *, age_s: float = 0) -> tuple[PartnerApi, str]:
    """This test process, through the service layer, reserves the key as a request being handled
    here would (started `age_s` ago): another process's request in flight."""
    store = Store.open(db)
    api = PartnerApi.open(store, get_partner(store.conn, "shop"))
    token, replay = api._reserve(idem, fingerprint(OrderIn(**body)), time.time() - age_s)
    assert token is not None and replay is None
    return api, token


def test_a_key_in_flight_in_another_process_gets_409_from_both_servers(two: tuple[str, str, str], demo_db: Path) -> None:
    key, u1, u2 = two
    body = _body(demo_db)
    api, token = _held_elsewhere(demo_db, "k-x", body)
    try:
        for url in (u1, u2):
            r = _post(url, key, body, "k-x")
            assert r.status_code == 409 and r.json()["error"]["code"] == "in_flight", r.text
        assert int(query(demo_db, "SELECT COUNT(*) FROM orders WHERE partner_id IS NOT NULL")[0][0]) == 0
        # the first request finishes: its order, and both servers now replay its answer
        made = api._create(OrderRequest(lines=[LineInput(SKU, 1)], customer=body["customer"]), None,
                           api.ctx.now(), None, "k-x", token)
    finally:
        api.ctx.store.close()
    for url in (u1, u2):
        r = _post(url, key, body, "k-x")
        assert r.status_code == 201 and r.json() == made and r.headers["Idempotent-Replayed"] == "true"


def test_a_dead_requests_reservation_expires_and_the_key_is_taken_over(two: tuple[str, str, str], demo_db: Path) -> None:
    key, u1, _ = two
    body = _body(demo_db)
    api, token = _held_elsewhere(demo_db, "k-dead", body, age_s=IN_FLIGHT_EXPIRES_S + 5)
    try:
        r = _post(u1, key, body, "k-dead")
        assert r.status_code == 201, r.text
        # the old request, were it only slow, cannot make a second order under the key
        with pytest.raises(Exception, match="taken over"):
            api._create(OrderRequest(lines=[LineInput(SKU, 1)], customer=body["customer"]), None,
                        api.ctx.now(), None, "k-dead", token)
    finally:
        api.ctx.store.close()
    assert int(query(demo_db, "SELECT COUNT(*) FROM orders WHERE partner_id IS NOT NULL")[0][0]) == 1


def test_twins_racing_on_two_servers_make_one_order(two: tuple[str, str, str], demo_db: Path) -> None:
    key, u1, u2 = two
    body = _body(demo_db)
    got: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda u=u: got.append(_post(u, key, body, "k-race"))) for u in (u1, u2) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(got) == 8
    made = {r.json()["number"] for r in got if r.status_code == 201}
    assert len(made) == 1 and all(r.status_code in (201, 409) for r in got), [r.text for r in got]
    assert int(query(demo_db, "SELECT COUNT(*) FROM orders WHERE partner_id IS NOT NULL")[0][0]) == 1


def test_a_key_is_kept_24_hours_then_forgotten(two: tuple[str, str, str], demo_db: Path) -> None:
    key, u1, u2 = two
    body = _body(demo_db)
    assert _post(u1, key, body, "k-old").status_code == 201
    other = _post(u2, key, _body(demo_db, qty=2), "k-old")
    assert other.status_code == 422 and "kept 24 h" in other.json()["error"]["message"]
    c = connect_db(demo_db)  # a day passes (the API runs on the real clock only)
    c.execute("UPDATE api_idempotency SET created_at = created_at - ? WHERE idem_key = 'k-old'", (KEY_KEPT_S + 60,))
    c.commit()
    c.close()
    again = _post(u2, key, _body(demo_db, qty=2), "k-old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers, again.text
    assert int(query(demo_db, "SELECT COUNT(*) FROM orders WHERE partner_id IS NOT NULL")[0][0]) == 2
