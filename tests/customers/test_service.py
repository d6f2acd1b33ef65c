"""Customers' addresses and contacts, and the order header's rules, through the service layer."""
from __future__ import annotations


import pytest

from core.errors import DomainError, NotFound, PermissionDenied, RulesError, ValidationError
from core.rules import parse_rules
from db.service.order_header import DuplicatePO, HeaderInput
from db.service.orders import LineInput
from tests.conftest import REPO, connect_db
from tests.customers.conftest import SHIP_1, SHIP_2

LINE = [LineInput("BEV-0001", "1")]


def _new(desk, **header):  # noqa: ANN001, ANN003
    return desk.orders.create(customer="C00006", channel="phone", type="standard", lines=LINE,
                              header=HeaderInput(**header))


def _release(desk, number: str) -> None:  # noqa: ANN001
    got = desk.orders.claim(number)
    for step in desk.orders.get(number).checklist:
        desk.orders.tick(number, step, token=got.claim_token)
    desk.orders.release(number, token=got.claim_token)


def test_first_address_of_a_kind_is_the_default_and_one_default_each(addr_db, desk_for) -> None:
    db, ids = addr_db
    shown = desk_for(db, "alice").customers.show("C00006")
    defaults = {(a["kind"], a["id"]) for a in shown["addresses"] if a["default"]}
    assert defaults == {("ship_to", ids["ship_1"]), ("bill_to", ids["bill"])}
    assert shown["place"] == "Boston, USA" and shown["contacts"][0]["name"] == "Pat Green"
    desk_for(db, "alice").customers.edit_address(ids["ship_2"], {}, default=True)
    again = desk_for(db, "alice").customers.show("C00006")
    assert [a["id"] for a in again["addresses"] if a["default"] and a["kind"] == "ship_to"] == [ids["ship_2"]]
    assert again["place"] == "Newark, USA"  # the picker follows the default ship-to


@pytest.mark.parametrize("fields, field", [
    ({"name": "X", "street": ["1 A St"], "country": "USA"}, "ship_to.city"),
    ({"name": "X", "city": "Boston", "country": "USA"}, "ship_to.street"),
    ({"name": "X", "street": ["1 A St"], "city": "Boston"}, "ship_to.country"),
    ({"name": "X", "street": ["a", "b", "c", "d"], "city": "Boston", "country": "USA"}, "ship_to.street"),
    ({"name": "X", "street": ["1 A St"], "city": "Bos\x1bton", "country": "USA"}, "ship_to.city"),
])
def test_incomplete_address_refused_nothing_written(addr_db, desk_for, fields, field) -> None:
    db, _ = addr_db
    desk = desk_for(db, "alice")
    before = len(desk.customers.show("C00006")["addresses"])
    with pytest.raises(ValidationError) as e:
        desk.customers.add_address("C00006", "ship_to", fields)
    assert e.value.field == field
    assert len(desk.customers.show("C00006")["addresses"]) == before


def test_reps_record_addresses_but_only_supervisors_edit_the_customer(addr_db, desk_for) -> None:
    db, _ = addr_db
    rep = desk_for(db, "alice")
    rep.customers.add_address("C00006", "ship_to", {**SHIP_1, "city": "Salem"})
    rep.customers.add_contact("C00006", {"name": "Lee"})
    with pytest.raises(PermissionDenied):
        rep.customers.edit("C00006", po_required=True)
    with pytest.raises(PermissionDenied):
        rep.customers.add("C09999", "New Co")
    assert desk_for(db, "sam").customers.edit("C00006", po_required=True)["po_required"] is True
    with pytest.raises(PermissionDenied):
        desk_for(db, "carol").customers.add_address("C00006", "ship_to", SHIP_1)  # returns clerk


def test_ship_to_is_a_snapshot_later_edits_do_not_rewrite_the_order(addr_db, desk_for) -> None:
    db, ids = addr_db
    desk = desk_for(db, "alice")
    o = _new(desk, ship_to=ids["ship_2"])
    assert o.ship_to["city"] == "Newark" and o.ship_to["street"] == SHIP_2["street"]
    assert o.bill_to["name"] == "Accounts" and o.contact["email"] == "pat@green.example"
    desk.customers.edit_address(ids["ship_2"], {"city": "Hoboken"})
    assert desk.orders.get(o.number).ship_to["city"] == "Newark"


def test_default_ship_to_and_one_off(addr_db, desk_for) -> None:
    db, _ = addr_db
    desk = desk_for(db, "alice")
    assert _new(desk).ship_to["city"] == "Boston"
    one_off = {"name": "Trade fair", "street": ["Hall 4"], "city": "Chicago", "country": "USA"}
    o = _new(desk, ship_to_address=one_off)
    assert o.ship_to["city"] == "Chicago"
    assert all(a["city"] != "Chicago" for a in desk.customers.show("C00006")["addresses"])  # for this order only


def test_another_customers_address_is_refused(addr_db, desk_for) -> None:
    db, ids = addr_db
    desk = desk_for(db, "alice")
    with pytest.raises(ValidationError) as e:
        desk.orders.create(customer="C00001", channel="phone", type="standard", lines=LINE,
                           header=HeaderInput(ship_to=ids["ship_2"]))
    assert e.value.field == "ship_to"


def test_po_required_refuses_release_until_a_po_is_given(addr_db, desk_for) -> None:
    db, _ = addr_db
    desk_for(db, "sam").customers.edit("C00006", po_required=True)
    rep = desk_for(db, "alice")
    o = _new(rep)
    with pytest.raises(DomainError) as e:
        _release(rep, o.number)
    assert "requires a PO number" in e.value.message
    assert rep.orders.get(o.number).state.value == "in_progress"
    token = rep.orders.get(o.number).claim_token
    rep.orders.set_header(o.number, HeaderInput(po_number="4711"), token=token)
    rep.orders.release(o.number, token=token)
    assert rep.orders.get(o.number).state.value == "released"


def test_duplicate_po_is_a_warning_the_rep_confirms(addr_db, desk_for) -> None:
    db, _ = addr_db
    rep = desk_for(db, "alice")
    first = _new(rep, po_number="PO-100")
    with pytest.raises(DuplicatePO) as e:
        _new(rep, po_number="PO-100")
    assert first.number in e.value.message and e.value.field == "po_number"
    second = _new(rep, po_number="PO-100", duplicate_po_ok=True)
    assert second.po_number == "PO-100"
    other = rep.orders.create(customer="C00001", channel="phone", type="standard", lines=LINE,
                              header=HeaderInput(po_number="PO-100"))
    assert other.po_number == "PO-100"  # another customer's PO numbers are its own


def test_partner_orders_queue_for_a_rep_with_the_reason(addr_db, desk_for) -> None:
    """A past requested date or a duplicate PO from an import/partner is not refused: it queues for a rep."""
    db, _ = addr_db
    rep = desk_for(db, "alice")
    _new(rep, po_number="PO-7")
    o = rep.orders.create(customer="C00006", channel="edi", type="standard", lines=LINE, typed=False,
                          header=HeaderInput(po_number="PO-7", requested_date="2020-01-31"))
    assert o.state.value == "queued" and not o.straight_through
    assert "requested date 2020-01-31 is in the past" in o.queue_reason and "duplicate PO PO-7" in o.queue_reason


@pytest.mark.parametrize("header, field", [
    ({"requested_date": "2020-01-01"}, "requested_date"),
    ({"requested_date": "31/12/2026"}, "requested_date"),
    ({"po_number": "P" * 36}, "po_number"),
    ({"ship_method": "rocket"}, "ship_method"),
    ({"ship_to": 999999}, "ship_to"),
    ({"contact": 999999}, "contact"),
])
def test_bad_header_refused_naming_the_field_nothing_written(addr_db, desk_for, header, field) -> None:
    db, _ = addr_db
    desk = desk_for(db, "alice")
    n = connect_db(db).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    with pytest.raises(ValidationError) as e:
        _new(desk, **header)
    assert e.value.field == field
    assert connect_db(db).execute("SELECT COUNT(*) FROM orders").fetchone()[0] == n


def test_ship_methods_come_from_the_rules(addr_db, desk_for) -> None:
    db, _ = addr_db
    o = _new(desk_for(db, "alice"), ship_method="EXPRESS")
    assert o.ship_method == "express"
    assert _new(desk_for(db, "alice")).ship_method == "ground"  # the first listed is the default
    text = (REPO / "core" / "default_rules.toml").read_text()
    with pytest.raises(RulesError) as e:
        parse_rules(text.replace('ship_methods = ["ground", "express",', 'ship_methods = ["ground", "Ground",'))
    assert "ship_methods" in e.value.message


def test_customer_list_tells_same_named_customers_apart(addr_db, desk_for) -> None:
    db, _ = addr_db
    sam = desk_for(db, "sam")
    sam.customers.add("C09001", "Alpine Hardware GmbH")
    sam.customers.add("C09002", "Alpine Hardware GmbH")
    sam.customers.add_address("C09001", "ship_to", {"name": "A", "street": ["x"], "city": "Innsbruck", "country": "Austria"})
    sam.customers.add_address("C09002", "ship_to", {"name": "A", "street": ["y"], "city": "Zurich", "country": "Switzerland"})
    rows = sam.customers.list("alpine hardware")
    assert [(r["code"], r["place"]) for r in rows] == [("C09001", "Innsbruck, Austria"), ("C09002", "Zurich, Switzerland")]
    custs = {c.code: c for c in sam.catalog.customers()}
    assert (custs["C09001"].city, custs["C09002"].city) == ("Innsbruck", "Zurich")
    with pytest.raises(NotFound):
        sam.customers.show("NOPE")
