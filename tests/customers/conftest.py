"""A demo database whose customer C00006 has two ship-to addresses, a bill-to and a contact."""
from __future__ import annotations

from pathlib import Path

import pytest

from db.service import Desk
from db.store import Store

SHIP_1 = {"name": "Main warehouse", "street": ["1 Main St"], "city": "Boston", "country": "USA"}
SHIP_2 = {"name": "Dock 9", "street": ["9 Dock Rd", "Gate B"], "city": "Newark", "region": "NJ",
          "postcode": "07101", "country": "USA"}
BILL = {"name": "Accounts", "street": ["PO Box 12"], "city": "Boston", "country": "USA"}


def add_addresses(db: Path) -> dict[str, int]:
    """Through the service, as an operator at the shell would (`orderq customers address add`)."""
    store = Store.open(db)
    try:
        desk = Desk.operator(store)
        ids = {"ship_1": desk.customers.add_address("C00006", "ship_to", SHIP_1)["id"],
               "ship_2": desk.customers.add_address("C00006", "ship_to", SHIP_2)["id"],
               "bill": desk.customers.add_address("C00006", "bill_to", BILL)["id"],
               "contact": desk.customers.add_contact("C00006", {"name": "Pat Green", "email": "pat@green.example",
                                                                "phone": "+1 555 0100"})["id"]}
    finally:
        store.close()
    return ids


@pytest.fixture
def addr_db(demo_db: Path) -> tuple[Path, dict[str, int]]:
    return demo_db, add_addresses(demo_db)
