"""Webhooks end to end: a real receiver process on loopback, real `orderq deliver` workers, a real WAL file.

Issue 15's Done-when: a webhook receiver gets `order.released` with a valid signature; stopped and
restarted, it still receives everything, each event at least once. And two workers do not deliver one
message twice in the normal case (each delivery is leased to one worker)."""
from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter

from core.webhooks import SIGNATURE_HEADER, verify
from tests.conftest import run_cli
from tests.helpers import wait_for
from tests.webhooks.conftest import SECRET, HookedDesk, Receiver


def started(proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait for a worker's first line ("delivering as …"): it is looking at the outbox from then on."""
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert first and first[0].startswith("delivering as"), (first, proc.poll())


def _for(receiver: Receiver, number: str, event: str = "order.released") -> list[dict]:
    return [r for r in receiver.requests()
            if (b := json.loads(r["body"]))["event"] == event and b.get("order", {}).get("number") == number]


def test_receiver_gets_order_released_with_a_valid_signature(hooked: HookedDesk, receiver: Receiver, workers) -> None:
    receiver.start()
    hooked.hook(receiver.url)
    workers.start(hooked.desk.db, hooked.rules_path)
    number = hooked.desk.released_order()
    got = wait_for(lambda: _for(receiver, number), 30, f"order.released of {number}")[0]

    raw = got["body"].encode("utf-8")
    assert verify(SECRET, raw, got["headers"][SIGNATURE_HEADER])
    assert not verify("another-secret-0123456789", raw, got["headers"][SIGNATURE_HEADER])
    body = json.loads(raw)
    assert body["event_id"] == got["headers"]["X-Orderq-Event-Id"] and body["event_id"].startswith("evt_")
    assert got["headers"]["X-Orderq-Event"] == "order.released" and got["path"] == "/hooks/orderq"
    assert got["headers"]["Content-Type"] == "application/json"
    order = body["order"]
    assert order["number"] == number and order["state"] == "released" and order["customer"] == "C00006"
    assert order["lines"][0]["sku"] == "BEV-0001" and body["occurred_at"].startswith(order["released_at"][:16])

    # the log says sent, with the receiver's status code
    wait_for(lambda: hooked.deliveries()[0]["state"] == "sent", 10, "the delivery recorded sent")
    out = run_cli("--db", str(hooked.desk.db), "webhooks", "log", "shop", "--json", check=True).stdout
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (line["event"], line["about"], line["state"], line["attempts"]) == ("order.released", number, "sent", 1)
    assert [t["status"] for t in line["tries"]] == [200] and line["event_id"] == body["event_id"]
    assert all(code == 0 for code, _, _ in workers.stop_all())


def test_a_receiver_down_for_a_while_gets_everything_once_back(hooked: HookedDesk, receiver: Receiver, workers) -> None:
    hooked.hook(receiver.url)
    workers.start(hooked.desk.db, hooked.rules_path)
    numbers = [hooked.desk.released_order() for _ in range(3)]
    hooked.desk.alice.orders.ship(numbers[0])
    # the receiver is down: every delivery is tried, fails, and is retried with back-off (1 s, 2 s, 4 s…)
    wait_for(lambda: (d := hooked.deliveries()) and len(d) == 4 and all(x["attempts"] >= 3 for x in d), 60,
             "each delivery tried three times while the receiver is down")
    assert all(d["state"] == "pending" and "cannot reach" in d["last_error"] for d in hooked.deliveries())
    out = run_cli("--db", str(hooked.desk.db), "webhooks", "log", check=True).stdout
    assert "pending" in out and "cannot reach" in out
    wallboard = run_cli("--db", str(hooked.desk.db), "deliveries", check=True).stdout
    assert "4 pending, 0 failed" in wallboard

    receiver.start()  # back: everything arrives within a minute (the back-off is capped at 30 s)
    want = {(n, "order.released") for n in numbers} | {(numbers[0], "order.shipped")}

    def arrived() -> bool:
        return want <= {(b["order"]["number"], b["event"]) for b in receiver.bodies()}

    wait_for(arrived, 60, "every event after the receiver came back")
    wait_for(lambda: all(d["state"] == "sent" for d in hooked.deliveries()), 15, "all recorded sent")
    ids = [b["event_id"] for b in receiver.bodies()]
    assert len(set(ids)) == 4  # four events, each with its own id (a repeat would carry the same one)
    shipped = [b for b in receiver.bodies() if b["event"] == "order.shipped"][0]
    assert shipped["order"]["state"] == "shipped" and shipped["shipment"]["complete"] is True
    assert all(code == 0 for code, _, _ in workers.stop_all())


def test_two_workers_deliver_each_message_once(hooked: HookedDesk, receiver: Receiver, workers) -> None:
    receiver.start()
    hooked.hook(receiver.url)
    for name in ("w1", "w2"):  # both running before the first release, so that they compete for every message
        started(workers.start(hooked.desk.db, hooked.rules_path, name=name))
    numbers = [hooked.desk.released_order() for _ in range(12)]
    wait_for(lambda: {b["order"]["number"] for b in receiver.bodies()} >= set(numbers), 60, "all twelve releases")
    wait_for(lambda: all(d["state"] == "sent" for d in hooked.deliveries()), 15, "all recorded sent")
    results = workers.stop_all()
    why = (hooked.deliveries(), results)  # on failure: each delivery's tries and errors, each worker's lines
    counts = Counter(b["event_id"] for b in receiver.bodies())
    assert len(counts) == 12 and set(counts.values()) == {1}, (counts, why)
    assert all(d["attempts"] == 1 for d in hooked.deliveries()), why
    assert all(code == 0 for code, _, _ in results), why
    assert sum(out.count(": sent") for _, out, _ in results) == 12, why
