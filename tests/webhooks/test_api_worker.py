"""`orderq api` runs the delivery worker in its own process: a partner posts an order by API, it is
released straight through, and the partner's own webhook hears of it with no `orderq deliver` running."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from core.webhooks import SIGNATURE_HEADER, verify
from tests.conftest import REPO
from tests.helpers import wait_for
from tests.webhooks.conftest import SECRET, HookedDesk, Receiver


def _post(url: str, key: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as resp:
        assert resp.status == 201
        return json.loads(resp.read())


def test_the_api_delivers_a_partners_own_release_to_its_webhook(hooked: HookedDesk, receiver: Receiver,
                                                                 tmp_path: Path) -> None:
    receiver.start()
    key = hooked.op.partners.add("web", "online").key  # tied to no customer: hears of the orders it sends
    hooked.hook(receiver.url, "order.released", partner="web")
    log = tmp_path / "api.log"
    exe = Path(sys.executable).parent / "orderq"
    with open(log, "w") as err:
        api = subprocess.Popen([str(exe), "--db", str(hooked.desk.db), "api", "--port", "0"], cwd=REPO, text=True,
                               stdout=subprocess.DEVNULL, stderr=err,
                               env={**os.environ, "ORDERQ_RULES": str(hooked.rules_path)})
    try:
        port = wait_for(lambda: (m := re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text()))
                        and m.group(1), 30, "the API listening")
        assert "delivering as" in log.read_text() and "webhook" in log.read_text()
        made = _post(f"http://127.0.0.1:{port}/v1/orders", key,
                     {"customer": "C00001", "lines": [{"sku": "BEV-0001", "qty": 1}], "external_ref": "WEB-1001"})
        assert made["state"] == "released"
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
