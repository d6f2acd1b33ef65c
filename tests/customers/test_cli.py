"""`orderq customers …` and the header flags of `order new`, as real processes on a real WAL file."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import json_lines
from tests.prove.conftest import fingerprint


def test_customers_add_address_contact_show_list(demo_db, cli) -> None:
    db = ("--db", str(demo_db))
    cli(*db, "customers", "add", "C09001", "--name", "Alpine Hardware GmbH", "--credit-limit", "5000", check=True)
    cli(*db, "customers", "add", "C09002", "--name", "Alpine Hardware GmbH", "--po-required", check=True)
    cli(*db, "customers", "address", "add", "C09001", "--name", "Alpine", "--street", "Hauptstr. 1",
        "--city", "Innsbruck", "--postcode", "6020", "--country", "Austria", check=True)
    cli(*db, "customers", "address", "add", "C09002", "--user", "alice", "--name", "Alpine", "--street", "Bahnhofstr. 2",
        "--city", "Zurich", "--country", "Switzerland", check=True)  # a rep records a ship-to
    cli(*db, "customers", "contact", "add", "C09002", "--user", "alice", "--name", "Heidi", "--phone", "+41 44 000",
        check=True)
    listed = cli(*db, "customers", "list", "--search", "alpine", check=True).stdout
    assert "Innsbruck, Austria" in listed and "Zurich, Switzerland" in listed
    rows = json_lines(cli(*db, "customers", "list", "--search", "alpine", "--json", check=True).stdout)
    assert [(r["code"], r["city"], r["country"]) for r in rows] == [
        ("C09001", "Innsbruck", "Austria"), ("C09002", "Zurich", "Switzerland")]
    shown = json.loads(cli(*db, "customers", "show", "C09002", "--json", check=True).stdout)
    assert shown["po_required"] and shown["contacts"][0]["name"] == "Heidi"
    cli(*db, "customers", "edit", "C09001", "--user", "sam", "--tier", "key_account", check=True)
    assert json.loads(cli(*db, "customers", "show", "C09001", "--json", check=True).stdout)["tier"] == "key_account"


@pytest.mark.parametrize("argv, says", [
    (["customers", "address", "add", "C00006", "--name", "X", "--city", "Boston", "--country", "USA"], "street"),
    (["customers", "address", "add", "C00006", "--kind", "home", "--name", "X", "--street", "1", "--city", "B",
      "--country", "USA"], "ship_to or bill_to"),
    (["customers", "contact", "add", "C00006", "--name", "Pat", "--email", "not-an-email"], "email"),
    (["customers", "edit", "C00006", "--user", "alice", "--po-required", "yes"], "Only supervisors and admins"),
    (["customers", "add", "C00001", "--name", "Again"], "exists already"),
    (["customers", "edit", "C00006", "--credit-limit", "-5"], "credit limit"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--requested-date",
      "2020-01-01"], "in the past"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--requested-date",
      "tomorrow"], "not a date"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--po", "P" * 36], "35"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--ship-method", "rocket"],
     "ground, express"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--ship-to", "999"],
     "ship-to address 999"),
    (["order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--ship-name", "One",
      "--ship-city", "Salem", "--ship-country", "USA"], "street"),
])
def test_bad_input_one_line_exit_2_nothing_written(demo_db, cli, argv, says) -> None:
    before = fingerprint(demo_db)
    p = cli("--db", str(demo_db), *argv)
    assert p.returncode == 2 and p.stdout == "", (p.stdout, p.stderr)
    line, = p.stderr.strip().splitlines()
    assert says in line and "Traceback" not in p.stderr
    assert fingerprint(demo_db) == before


def test_order_new_takes_the_header_and_show_json_has_it(demo_db, cli) -> None:
    db = ("--db", str(demo_db))
    ship = json.loads(cli(*db, "customers", "address", "add", "C00006", "--json", "--name", "Dock 9", "--street",
                          "9 Dock Rd", "--city", "Newark", "--region", "NJ", "--postcode", "07101", "--country", "USA",
                          check=True).stdout)
    wanted = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()  # ahead of the real clock the CLI reads
    contact = json.loads(cli(*db, "customers", "contact", "add", "C00006", "--json", "--name", "Pat",
                             "--email", "pat@green.example", check=True).stdout)
    o = json.loads(cli(*db, "order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:2",
                       "--ship-to", str(ship["id"]), "--contact", str(contact["id"]), "--po", "PO-4711",
                       "--requested-date", wanted, "--ship-method", "express", "--note", "dock closes 16:00",
                       "--json", check=True).stdout)
    shown = json.loads(cli(*db, "order", "show", o["number"], "--json", check=True).stdout)
    assert shown["ship_to"] == {"name": "Dock 9", "street": ["9 Dock Rd"], "city": "Newark", "region": "NJ",
                                "postcode": "07101", "country": "USA"}
    assert shown["contact"] == {"name": "Pat", "email": "pat@green.example", "phone": None}
    assert (shown["po_number"], shown["requested_date"], shown["ship_method"], shown["note"]) == (
        "PO-4711", wanted, "express", "dock closes 16:00")
    bill = next(a for a in json.loads(cli(*db, "customers", "show", "C00006", "--json", check=True).stdout)["addresses"]
                if a["kind"] == "bill_to" and a["default"])
    assert shown["bill_to"] == {k: bill[k] for k in shown["ship_to"]}  # the customer's default bill-to
    text = cli(*db, "order", "show", o["number"], check=True).stdout
    assert "Dock 9, 9 Dock Rd, 07101 Newark, NJ, USA" in text and "PO PO-4711" in text
    # the same PO again: one line, exit 2, until the rep confirms it is a new order
    again = ("order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1", "--po", "PO-4711")
    before = fingerprint(demo_db)
    p = cli(*db, *again)
    assert p.returncode == 2 and o["number"] in p.stderr and "--duplicate-po-ok" in p.stderr
    assert fingerprint(demo_db) == before
    cli(*db, *again, "--duplicate-po-ok", check=True)


def test_po_required_release_refused_with_the_reason(demo_db, cli) -> None:
    db = ("--db", str(demo_db))
    cli(*db, "customers", "edit", "C00006", "--po-required", "yes", check=True)
    o = json.loads(cli(*db, "order", "new", "--user", "alice", "--customer", "C00006", "--line", "BEV-0001:1",
                       "--json", check=True).stdout)
    token = json.loads(cli(*db, "claim", "--user", "alice", "--number", o["number"], "--json", check=True).stdout)[
        "claim_token"]
    for step in [s["step"] for s in o["checklist"]]:
        cli(*db, "tick", o["number"], step, "--user", "alice", "--token", token, check=True)
    before = fingerprint(demo_db)
    p = cli(*db, "release", o["number"], "--user", "alice", "--token", token)
    assert p.returncode == 2 and "requires a PO number" in p.stderr
    assert fingerprint(demo_db) == before
    cli(*db, "order", "header", o["number"], "--user", "alice", "--token", token, "--po", "77", check=True)
    cli(*db, "release", o["number"], "--user", "alice", "--token", token, check=True)
    assert json.loads(cli(*db, "order", "show", o["number"], "--json", check=True).stdout)["state"] == "released"
