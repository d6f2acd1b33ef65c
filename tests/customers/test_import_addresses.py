"""Imports carry where an order ships: Northwind's Ship* columns, its customers' addresses and contacts,
online-retail's Country; the summary's conservation check covers them."""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

from tests.conftest import connect_db, json_lines, run_cli


def _nw(value: str) -> str | None:
    return None if value == "NULL" or not value.strip() else value.strip()


def test_every_northwind_order_ships_to_its_source_address(data_dir: Path, db_path: Path) -> None:
    folder = data_dir / "northwind"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert s["conserved"] and s["ship_to_rows"] == s["ship_tos"] == s["orders"] == 830
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        source = {f"NW-{r['orderID']}": r for r in csv.DictReader(fh)}
    c = connect_db(db_path)
    stored = {ref: json.loads(st) for ref, st in c.execute("SELECT source_ref, ship_to FROM orders")}
    assert stored.keys() == source.keys()
    for ref, r in source.items():
        want = {"name": _nw(r["shipName"]) or "", "street": [x for x in [_nw(r["shipAddress"])] if x],
                "city": _nw(r["shipCity"]) or "", "region": _nw(r["shipRegion"]),
                "postcode": _nw(r["shipPostalCode"]), "country": _nw(r["shipCountry"]) or ""}
        assert stored[ref] == want, ref
    # the order shows it as JSON too
    shown = json.loads(run_cli("--db", str(db_path), "order", "show", "NW-10248", "--json", check=True).stdout)
    assert shown["ship_to"]["city"] == "Reims" and shown["ship_to"]["postcode"] == "51100"


def test_northwind_customers_get_their_address_and_contact(data_dir: Path, db_path: Path) -> None:
    folder = data_dir / "northwind"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert (s["addresses_created"], s["contacts_created"]) == (2 * 91, 91)
    alfki = json.loads(run_cli("--db", str(db_path), "customers", "show", "ALFKI", "--json", check=True).stdout)
    assert alfki["place"] == "Berlin, Germany"
    assert {(a["kind"], a["default"], a["street"][0]) for a in alfki["addresses"]} == {
        ("ship_to", True, "Obere Str. 57"), ("bill_to", True, "Obere Str. 57")}
    assert alfki["contacts"] == [{"id": alfki["contacts"][0]["id"], "name": "Maria Anders", "email": None,
                                  "phone": "030-0074321"}]
    # a re-run imports nothing again, and adds no second address
    again = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert again["conserved"] and again["addresses_created"] == 0
    assert connect_db(db_path).execute("SELECT COUNT(*) FROM customer_addresses").fetchone()[0] == 2 * 91


def test_online_retail_country_becomes_the_address_country(data_dir: Path, db_path: Path, tmp_path: Path) -> None:
    src = data_dir / "online-retail" / "online_retail_full.csv.gz"
    sample = tmp_path / "retail.csv"
    with io.TextIOWrapper(gzip.open(src, "rb"), encoding="utf-8", newline="") as fh, \
            open(sample, "w", encoding="utf-8", newline="") as out:
        for n, line in zip(range(400), fh):
            out.write(line)
    s = json_lines(run_cli("--db", str(db_path), "import", str(sample), "--rejects", str(tmp_path / "rej.csv"), "--json",
                           check=True).stdout)[-1]
    assert s["conserved"] and s["ship_tos"] == s["ship_to_rows"] > 0
    with open(sample, newline="", encoding="utf-8") as fh:
        country = {r["InvoiceNo"]: r["Country"] for r in csv.DictReader(fh)}
    c = connect_db(db_path)
    for ref, ship in c.execute("SELECT source_ref, ship_to FROM orders"):
        assert json.loads(ship)["country"] == country[ref]
    for code, kind, ctry in c.execute("SELECT c.code, a.kind, a.country FROM customer_addresses a "
                                      "JOIN customers c ON c.id = a.customer_id"):
        assert kind == "ship_to" and ctry


def test_northwind_required_date_and_ship_via_become_the_header(data_dir: Path, db_path: Path) -> None:
    """RequiredDate is the order's requested date and ShipVia its shipping method (Northwind's shippers
    mapped onto the rules' methods), on every order; the summary's conservation covers both. History keeps
    its own dates: an order required in 1997 is no refusal, and only the open ones queue with the reason."""
    folder = data_dir / "northwind"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", check=True).stdout)[-1]
    assert s["conserved"] and s["rejects"] == 0
    assert s["requested_rows"] == s["requested_dates"] == s["ship_method_rows"] == s["ship_methods"] == 830
    with open(folder / "shippers.csv", newline="", encoding="utf-8") as fh:
        shipper = {r["shipperID"]: r["companyName"] for r in csv.DictReader(fh)}
    method = {"Speedy Express": "express", "United Package": "ground", "Federal Shipping": "freight"}
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        source = {f"NW-{r['orderID']}": r for r in csv.DictReader(fh)}
    c = connect_db(db_path)
    stored = {r[0]: r[1:] for r in c.execute("SELECT source_ref, requested_date, ship_method, state, queue_reason "
                                             "FROM orders")}
    assert stored.keys() == source.keys()
    for ref, r in source.items():
        requested, ship, state, reason = stored[ref]
        assert (requested, ship) == (r["requiredDate"][:10], method[shipper[r["shipVia"]]]), ref
        if state == "shipped":
            assert reason is None, ref
        elif state == "queued":  # open, and asked for in 1998: a rep looks at it rather than it going straight through
            assert f"requested date {requested} is in the past" in reason, ref
    shown = json.loads(run_cli("--db", str(db_path), "order", "show", "NW-10248", "--json", check=True).stdout)
    assert (shown["requested_date"], shown["ship_method"]) == ("1996-08-01", "freight")


def test_northwind_shipper_the_rules_do_not_name_rejects_its_orders(data_dir: Path, db_path: Path,
                                                                     tmp_path: Path) -> None:
    """A shipper that maps to no shipping method in the rules is a reject naming the method, never an order
    with a method the rules lack; the rest imports and the rows still add up."""
    import shutil

    folder = tmp_path / "northwind"
    shutil.copytree(data_dir / "northwind", folder)
    text = (folder / "shippers.csv").read_text(encoding="utf-8")
    (folder / "shippers.csv").write_text(text.replace("Speedy Express", "Pony Express"), encoding="utf-8")
    with open(folder / "orders.csv", newline="", encoding="utf-8") as fh:
        pony = {r["orderID"] for r in csv.DictReader(fh) if r["shipVia"] == "1"}
    rejects = tmp_path / "rejects.csv"
    s = json_lines(run_cli("--db", str(db_path), "import", str(folder), "--json", "--rejects", str(rejects),
                           check=True).stdout)[-1]
    assert s["conserved"] and s["orders"] == 830 - len(pony) and s["ship_methods"] == s["orders"]
    with open(rejects, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["reason"] == "bad-row" and "shipping method" in r["detail"]]
    assert len(rows) == len(pony) and "'Pony Express'" in rows[0]["detail"]
    assert connect_db(db_path).execute("SELECT COUNT(*) FROM orders WHERE ship_method NOT IN "
                                            "('ground', 'express', 'overnight', 'freight', 'pickup')").fetchone()[0] == 0


def test_northwind_customers_contact_name_and_phone_are_their_contacts(data_dir: Path, db_path: Path) -> None:
    """Every Northwind customer's ContactName and Phone is its contact, and an order's header names it."""
    folder = data_dir / "northwind"
    run_cli("--db", str(db_path), "import", str(folder), "--json", check=True)
    with open(folder / "customers.csv", newline="", encoding="utf-8") as fh:
        source = {r["customerID"]: (_nw(r["contactName"]), _nw(r["phone"])) for r in csv.DictReader(fh)}
    c = connect_db(db_path)
    stored = {code: (name, phone) for code, name, phone in c.execute(
        "SELECT c.code, k.name, k.phone FROM customer_contacts k JOIN customers c ON c.id = k.customer_id")}
    assert stored == source
    open_order = c.execute("SELECT source_ref FROM orders WHERE state != 'shipped' ORDER BY id LIMIT 1").fetchone()[0]
    shown = json.loads(run_cli("--db", str(db_path), "order", "show", open_order, "--json", check=True).stdout)
    assert shown["contact"]["name"] == source[shown["customer"]][0]
