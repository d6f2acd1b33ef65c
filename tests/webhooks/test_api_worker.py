"""`orderq api` runs the delivery worker in its own process: a partner posts an order by API, it is
released straight through, and the partner's own webhook hears of it with no `orderq deliver` running."""
from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx

from core.webhooks import SIGNATURE_HEADER, verify
from tests.api.conftest import start_server
from tests.helpers import wait_for
from tests.webhooks.conftest import SECRET, HookedDesk, Receiver


def test_the_api_delivers_a_partners_own_release_to_its_webhook(hooked: HookedDesk, receiver: Receiver,
                                                                 tmp_path: Path) -> None:
    receiver.start()
    key = hooked.op.partners.add("web", "online").key  # tied to no customer: hears of the orders it sends
    hooked.hook(receiver.url, "order.released", partner="web")
    log = tmp_path / "api.log"
    api, url = start_server(hooked.desk.db, log)
    try:
        assert "delivering as" in log.read_text() and "webhook" in log.read_text()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            r = client.post("/v1/orders", json={"customer": "C00001", "lines": [{"sku": "BEV-0001", "qty": 1}],
                                                "external_ref": "WEB-1001"})
        assert r.status_code == 201 and (made := r.json())["state"] == "released"
        got = wait_for(lambda: receiver.requests(), 30, "the webhook from the API's own worker")[0]
        assert verify(SECRET, got["body"].encode(), got["headers"][SIGNATURE_HEADER])
        body = json.loads(got["body"])
        assert body["event"] == "order.released" and body["order"]["number"] == made["number"]
        assert body["order"]["external_ref"] == "WEB-1001"  # as the API shows it to this partner
        # the other partner (shop, tied to C00006) is told nothing of a C00001 order
        assert len(hooked.deliveries()) == 1
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)
    assert api.returncode == 0, log.read_text()
    assert re.search(r"orderq\.deliver delivery \d+ webhook " + made["number"] + r" .*: sent", log.read_text())
