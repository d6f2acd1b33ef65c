"""POST /v1/edi on a real `orderq api` process: the raw interchange as the body, the partner from the key;
the answer carries the 997, the outbox holds it too, a resend is refused with nothing written, and an
interchange from another partner's ids is refused."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.edi.x12 import parse_x12
from db.service import Desk
from db.store import Store
from tests.api.conftest import start_server, stop_server
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import counts, set_up_partner
from tests.helpers import wait_for

ONE = EDI / "x12" / "850-004010-03.x12"
OTHER = EDI / "x12" / "850-004010-04.x12"


def _two_partners(demo_db: Path, tmp_path: Path, more=None) -> tuple:  # noqa: ANN001
    """acme (ONE's sender, whose key is returned) and other (OTHER's); `more(desk)` runs before closing."""
    store = Store.open(demo_db)
    try:
        desk = Desk.operator(store)
        partner = set_up_partner(desk, ONE, tmp_path)
        key = desk.partners.rotate(partner.name).key
        set_up_partner(desk, OTHER, tmp_path, name="other")
        return partner, key, more(desk) if more else None
    finally:
        store.close()


@contextmanager
def _api(demo_db: Path, tmp_path: Path, key: str) -> Iterator[object]:
    """A real `orderq api` process and an HTTP client posting X12 with the partner's key."""
    import httpx

    proc, url = start_server(demo_db, tmp_path / "api.log")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}",
                                                 "Content-Type": "application/edi-x12"}, timeout=30) as http:
            yield http
    finally:
        stop_server(proc)


def test_post_edi_imports_for_the_keys_partner_and_answers_with_the_997(demo_db: Path, tmp_path: Path) -> None:
    partner, key, _ = _two_partners(demo_db, tmp_path)
    with _api(demo_db, tmp_path, key) as http:
        r = http.post("/v1/edi", content=ONE.read_bytes())
        assert r.status_code == 201, r.text
        body = r.json()
        assert [o["po_number"] for o in body["orders"]] == ["0123456789123"]
        (ack,) = body["acknowledgments"]
        assert parse_x12(ack)[0].messages[0].type == "997"
        # the API's own delivery worker writes it, after the answer
        wait_for(lambda: list(partner.outbox.iterdir()), what="the 997 in the outbox")
        assert [p.read_text(encoding="latin-1") for p in partner.outbox.iterdir()] == [ack]
        before = counts(demo_db)
        again = http.post("/v1/edi", content=ONE.read_bytes())
        assert again.status_code == 422 and "duplicate interchange" in again.text
        foreign = http.post("/v1/edi", content=OTHER.read_bytes())
        assert foreign.status_code == 422 and "not the partner of this key" in foreign.text
        assert counts(demo_db)["orders"] == before["orders"]
        assert counts(demo_db)["edi_interchanges"] == before["edi_interchanges"]


def test_an_interchange_posted_to_the_api_gets_its_997_back_as_an_edi_ack_webhook(demo_db: Path, tmp_path: Path) -> None:
    import json

    from tests.conftest import run_cli
    from tests.edi_intake.conftest import rows

    def hooks(desk: Desk) -> int:
        desk.webhooks.add("acme", "http://127.0.0.1:9/orders", "order.released", secret="s" * 32)
        desk.webhooks.add("other", "http://127.0.0.1:9/other", "edi.ack", secret="s" * 32)
        return desk.webhooks.add("acme", "http://127.0.0.1:9/edi", "edi.ack", secret="s" * 32).id

    _partner, key, mine = _two_partners(demo_db, tmp_path, hooks)
    run_cli("--db", str(demo_db), "import", str(OTHER), check=True)  # by file, not the API: no webhook
    with _api(demo_db, tmp_path, key) as http:
        r = http.post("/v1/edi", content=ONE.read_bytes())
        assert r.status_code == 201, r.text
        (ack,) = r.json()["acknowledgments"]
    hooks = rows(demo_db, "SELECT payload FROM deliveries WHERE kind = 'webhook'")
    sent = [json.loads(h["payload"]) for h in hooks]
    assert [(p["webhook"], p["event"]) for p in sent] == [(mine, "edi.ack")]  # subscribers of that partner only
    body = json.loads(sent[0]["body"])["acknowledgment"]
    assert body["document"] == "997" and body["text"] == ack
