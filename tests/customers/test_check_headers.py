"""`orderq check` names an order whose header snapshot raw SQL (or a bug) broke: a ship-to without its
address parts, a contact without a name, a ship-to address id that is not a ship-to of the order's customer."""
from __future__ import annotations

import json
from pathlib import Path

from db.service.order_header import HeaderInput
from db.service.orders import LineInput
from tests.conftest import connect_db


def _check(cli, db: Path) -> tuple[int, str]:  # noqa: ANN001
    proc = cli("--db", str(db), "check")
    return proc.returncode, proc.stdout


def test_check_names_an_order_whose_header_snapshot_is_broken(addr_db, desk_for, cli) -> None:  # noqa: ANN001
    db, ids = addr_db
    alice = desk_for(db, "alice")
    mk = lambda: alice.orders.create(customer="C00006", channel="phone", type="standard",  # noqa: E731
                                     lines=[LineInput("BEV-0001", "1")], header=HeaderInput(ship_to=ids["ship_2"])).number
    bad_city, bad_contact, bad_json, other, bill = mk(), mk(), mk(), mk(), mk()
    assert _check(cli, db)[0] == 0
    c = connect_db(db)
    ship = json.loads(c.execute("SELECT ship_to FROM orders WHERE number = ?", (bad_city,)).fetchone()[0])
    assert ship["city"] == "Newark"
    del ship["city"]
    c.execute("UPDATE orders SET ship_to = ? WHERE number = ?", (json.dumps(ship), bad_city))
    c.execute("UPDATE orders SET contact = '{\"email\": \"x@y.example\"}' WHERE number = ?", (bad_contact,))
    c.execute("UPDATE orders SET bill_to = '{\"name\": \"Accounts\", \"street\"' WHERE number = ?", (bad_json,))
    elsewhere = c.execute("SELECT a.id FROM customer_addresses a JOIN customers k ON k.id = a.customer_id "
                          "WHERE k.code != 'C00006' AND a.kind = 'ship_to' LIMIT 1").fetchone()
    if elsewhere is None:  # a demo without addresses: give another customer one
        cust = c.execute("SELECT id FROM customers WHERE code = 'C00010'").fetchone()[0]
        elsewhere = c.execute("INSERT INTO customer_addresses (customer_id, kind, is_default, name, street, city, country)"
                              " VALUES (?, 'ship_to', 1, 'Elsewhere', '1 Road', 'Graz', 'Austria') RETURNING id",
                              (cust,)).fetchone()
    c.execute("UPDATE orders SET ship_to_address_id = ? WHERE number = ?", (elsewhere[0], other))
    c.execute("UPDATE orders SET ship_to_address_id = ? WHERE number = ?", (ids["bill"], bill))
    c.commit()
    c.close()
    rc, out = _check(cli, db)
    assert rc == 1
    assert f"order {bad_city}: its ship-to is not a well-formed address" in out
    assert f"order {bad_json}: its bill-to is not a well-formed address" in out
    assert f"order {bad_contact}: its contact has no name" in out
    assert f"order {other}: ship_to_address_id {elsewhere[0]} is a ship-to address of customer C000" in out
    assert f"order {bill}: ship_to_address_id {ids['bill']} is a bill-to address of customer C00006" in out
    assert "FAIL order header snapshots well formed" in out and "FAIL ship-to address is the customer's" in out
