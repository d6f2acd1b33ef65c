"""Which events owe which hooks: a `webhook` delivery is written in the transaction of the event that causes
it (never by a refused command), for the hooks that want the event and may see the order, with the order
or return as the API shows it; removed hooks and disabled partners are owed nothing; a receiver that never
answers is given up after a day and shows as failed."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import DomainError, ValidationError
from core.webhooks import TRIES_KEPT
from db.deliver.worker import Worker
from db.service import Desk
from db.service.orders import LineInput
from db.service.partner_api import PartnerApi
from db.service.partners import get_partner
from tests.conftest import FakeClock, connect_db, run_cli
from tests.deliveries.conftest import free_port, write_rules
from tests.returns.conftest import returns_template, rdb, shipped_line  # noqa: F401 - fixtures
from tests.returns.test_service import walk
from tests.webhooks.conftest import SECRET, HookedDesk

URL = "http://127.0.0.1:9/never"  # nobody listens: these tests look at what is owed, not at sending


def bodies(h: HookedDesk) -> list[dict]:
    return [json.loads(json.loads(d["payload"])["body"]) for d in h.deliveries()]


def test_release_ship_cancel_each_owe_the_hook_in_their_own_transaction(hooked: HookedDesk) -> None:
    hooked.hook(URL)
    alice, store = hooked.desk.alice, hooked.desk.store
    o = alice.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", 1)])
    claim = alice.orders.claim(o.number)
    with pytest.raises(DomainError):  # the checklist is not ticked: refused, and nothing is owed
        alice.orders.release(o.number, token=claim.claim_token)
    assert hooked.deliveries() == []
    for step in o.checklist:
        alice.orders.tick(o.number, step, token=claim.claim_token)
    alice.orders.release(o.number, token=claim.claim_token)
    alice.orders.ship(o.number)
    other = alice.orders.create(customer="C00006", channel="phone", type="standard", lines=[LineInput("BEV-0001", 1)])
    alice.orders.cancel(other.number, "customer changed their mind")

    got = [(b["event"], b["order"]["number"], b["order"]["state"]) for b in bodies(hooked)]
    assert got == [("order.released", o.number, "released"), ("order.shipped", o.number, "shipped"),
                   ("order.cancelled", other.number, "cancelled")]
    history = {e.action: e for n in (o.number, other.number) for e in alice.orders.history(n)}
    for d, action in zip(hooked.deliveries(), ("release", "ship", "cancel")):
        ev = history[action]
        payload = json.loads(d["payload"])
        assert payload["event_id"] == f"evt_{ev.id}" == json.loads(payload["body"])["event_id"]
        created = store.conn.execute("SELECT created_at FROM deliveries WHERE id = ?", (d["id"],)).fetchone()[0]
        assert created == ev.at.timestamp()  # the event's own moment: its transaction
    # the order as the API shows it to this partner, byte for byte the API's shape
    partner = get_partner(store.conn, "shop")
    assert bodies(hooked)[2]["order"] == PartnerApi.open(store, partner).order(other.number)


def test_a_partner_hears_only_of_the_orders_it_may_see(hooked: HookedDesk) -> None:
    hooked.hook(URL, "order.released")  # shop: tied to C00006
    with pytest.raises(ValidationError, match="--all-orders"):
        hooked.hook(URL, "order.released", all_orders=True)
    hooked.op.partners.add("wms", "online")
    hooked.hook(URL, "order.released", partner="wms", all_orders=True)  # the warehouse: every order
    mine = hooked.desk.released_order("C00006")
    theirs = hooked.desk.released_order("C00001")
    told = sorted((json.loads(d["payload"])["webhook"], d["ref"]) for d in hooked.deliveries())
    assert told == [(1, mine), (2, mine), (2, theirs)]


def test_removed_hooks_and_disabled_partners_are_owed_nothing(hooked: HookedDesk) -> None:
    hook = hooked.hook(URL)
    first = hooked.desk.released_order()
    assert hooked.op.webhooks.remove(hook) == 1
    [d] = hooked.deliveries()
    assert (d["ref"], d["state"], d["last_error"]) == (first, "failed", f"webhook {hook} was removed")
    hooked.desk.released_order()
    assert len(hooked.deliveries()) == 1
    hooked.hook(URL)
    hooked.op.partners.disable("shop")
    hooked.desk.released_order()
    assert len(hooked.deliveries()) == 1
    actions = [r[0] for r in hooked.desk.store.conn.execute(
        "SELECT action FROM events WHERE entity = 'webhook' ORDER BY id")]
    assert actions == ["webhook_added", "webhook_removed", "webhook_added"]


def test_return_resolved_carries_the_return_as_the_api_shows_it(rdb: Path, desk_for) -> None:  # noqa: ANN001
    from db.service.returns import ReturnLineInput

    op = desk_for(rdb, None)
    op.partners.add("wms", "online")
    op.webhooks.add("wms", URL, "return.resolved", secret=SECRET, all_orders=True)
    carol = desk_for(rdb, "carol")
    ln = shipped_line(rdb)
    d = carol.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="damaged")], resolution="refund",
                          orders=[ln["number"]])
    done = walk(carol, d["number"])
    c = connect_db(rdb)
    [(payload, ref, entity)] = c.execute("SELECT payload, ref, entity FROM deliveries WHERE kind = 'webhook'").fetchall()
    c.close()
    body = json.loads(json.loads(payload)["body"])
    assert (body["event"], ref, entity) == ("return.resolved", d["number"], "return")
    assert body["return"] == PartnerApi._return_view(done) and body["return"]["state"] == "resolved"


def test_a_receiver_that_never_answers_is_given_up_after_a_day_and_shown(tmp_path: Path, desk6_factory) -> None:  # noqa: ANN001
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    _, rules = write_rules(tmp_path)
    h = HookedDesk(desk6_factory(rules, clock), tmp_path)
    h.hook(f"http://127.0.0.1:{free_port()}/down")
    number = h.desk.released_order()
    worker = Worker(h.desk.store, name="t", kinds=None)
    tries = []
    for _ in range(11):
        tries += worker.run_once()
        clock.advance(seconds=31)  # past the longest back-off: due again
    assert [t.state.value for t in tries] == ["pending"] * 11
    clock.advance(hours=24)
    [last] = worker.run_once()
    assert last.state.value == "failed"
    out = run_cli("--db", str(h.desk.db), "webhooks", "log", "shop", "--json", check=True).stdout
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (line["about"], line["state"], line["attempts"]) == (number, "failed", 12)
    assert len(line["tries"]) == TRIES_KEPT == 10 and all(t["status"] is None and "cannot reach" in t["error"] for t in line["tries"])
    assert Desk.for_user(h.desk.store, "sam").kpi.wallboard().deliveries == {"pending": 0, "failed": 1}
    assert timedelta(hours=24) < clock() - datetime.fromisoformat(line["created_at"].replace("Z", "+00:00"))
