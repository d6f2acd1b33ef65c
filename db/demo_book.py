"""The demo's customer book and order headers: addresses, contacts, PO numbers, shipping methods.

Every demo customer gets a head office (its default ship-to and bill-to) and a buyer; about one in
four also ships to a second site (a warehouse or a store), so the F4 picker has a choice to show, and
a third of that customer's orders go there. Some customers require a PO number on every order, and
some take complete shipments only. Orders carry the header live entry gives them
(core.addresses.header_cols): the ship-to and bill-to snapshots, the contact, a PO number (always for a
customer that requires one, often for orders taken by phone, email, fax or EDI), sometimes a requested
delivery date, and a shipping method from the rules.

Drawn from its own random stream (seeded from the demo's seed), so the orders, arrivals and the desk's
work come out exactly as they would without it.
"""
from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from core.addresses import HEADER_COLUMNS, header_cols, header_event
from db import dbapi
from db.service.customers import address_dict, snapshot

PO_REQUIRED_SHARE = 0.15      # customers whose orders cannot be released without a PO number
SHIP_COMPLETE_SHARE = 0.1     # customers who take one complete shipment only
SECOND_SITE_SHARE = 0.25      # customers with a second ship-to address
_CITIES = {
    "United Kingdom": [("London", "EC1A 1BB"), ("Leeds", "LS1 4AP"), ("Bristol", "BS1 5TR"), ("Glasgow", "G2 1DU")],
    "Germany": [("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667")],
    "France": [("Paris", "75002"), ("Lyon", "69002"), ("Lille", "59000"), ("Nantes", "44000")],
    "USA": [("Boston", "02108"), ("Chicago", "60601"), ("Denver", "80202"), ("Newark", "07102")],
    "Netherlands": [("Amsterdam", "1012 JS"), ("Rotterdam", "3011 AD"), ("Utrecht", "3511 LX")],
    "Spain": [("Madrid", "28013"), ("Valencia", "46002"), ("Sevilla", "41001")],
    "Ireland": [("Dublin", "D02 X285"), ("Cork", "T12 RX2A"), ("Galway", "H91 E2K3")],
    "Belgium": [("Brussel", "1000"), ("Antwerpen", "2000"), ("Gent", "9000")],
    "Sweden": [("Stockholm", "111 52"), ("Göteborg", "411 03"), ("Malmö", "211 22")],
}
_REGIONS = {"USA": {"Boston": "MA", "Chicago": "IL", "Denver": "CO", "Newark": "NJ"}}
_STREETS = ["High Street", "Station Road", "Market Square", "Harbour Way", "Mill Lane", "Industrial Park",
            "Commerce Drive", "Canal Street", "Church Road", "Trade Centre"]
_SITES = ["Warehouse", "Distribution centre", "Store", "Dock 4", "Returns depot"]
_GIVEN = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Liam",
          "Maya", "Noah", "Olivia", "Pia", "Rosa", "Sven", "Tara", "Yusuf"]
_FAMILY = ["Berg", "Clarke", "Dubois", "Evans", "Fischer", "García", "Hansen", "Jansen", "Keller", "Lindqvist",
           "Murphy", "Novak", "O'Brien", "Peeters", "Rossi", "Schmidt", "Smith", "Vogel", "Walsh", "Young"]
_PO_CHANNELS = ("phone", "email", "fax", "edi")


class Book:
    """The customers' address book as order entry reads it: each customer's ship-tos (default first),
    default bill-to and first contact, and the demo's own draws for order headers."""

    def __init__(self, c: dbapi.Connection, rng: random.Random, ship_methods: list[str]) -> None:
        self.rng = rng
        self.methods = ship_methods
        self.ship: dict[int, list[tuple[int, dict]]] = {}
        self.bill: dict[int, dict] = {}
        self.contact: dict[int, dict] = {}
        self.po_required: set[int] = set()
        self.next_po = 1000
        self._weights = [8] + [1] * (len(ship_methods) - 1)
        #: (customer id, ship-to id) -> the header's snapshot columns and their event form
        self._fixed: dict[tuple[int, int | None], tuple[dict[str, Any], dict[str, Any]]] = {}
        for r in c.execute("SELECT * FROM customer_addresses ORDER BY customer_id, is_default DESC, id"):
            a = snapshot(address_dict(r))
            if r["kind"] == "ship_to":
                self.ship.setdefault(r["customer_id"], []).append((r["id"], a))
            elif r["is_default"]:
                self.bill[r["customer_id"]] = a
        for r in c.execute("SELECT customer_id, name, email, phone FROM customer_contacts ORDER BY id"):
            self.contact.setdefault(r[0], {"name": r[1], "email": r[2], "phone": r[3]})
        self.po_required = {r[0] for r in c.execute("SELECT id FROM customers WHERE po_required = 1")}

    def header(self, cust: dbapi.Row, channel: str, received: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """One order's header columns and the header its `created` event records."""
        rng = self.rng
        sites = self.ship.get(cust["id"], [])
        ship_id, ship = (None, None)
        if sites:
            ship_id, ship = sites[1] if len(sites) > 1 and rng.random() < 0.35 else sites[0]
        po = None
        if cust["id"] in self.po_required or (channel in _PO_CHANNELS and rng.random() < 0.6):
            self.next_po += 1
            po = rng.choice(["PO-{}", "{}", "4500{}", "P{}/26"]).format(self.next_po)
        requested = None
        if rng.random() < 0.2:
            day = datetime.fromtimestamp(received, UTC).date()
            requested = day + timedelta(days=rng.choice([2, 3, 5, 7, 10, 14]))
        method = rng.choices(self.methods, weights=self._weights)[0]
        key = (cust["id"], ship_id)
        fixed = self._fixed.get(key)
        if fixed is None:  # the snapshots, as JSON for the row and as objects for the event, once per site
            cols = header_cols(ship_to=ship, ship_to_address_id=ship_id, bill_to=self.bill.get(cust["id"]),
                               contact=self.contact.get(cust["id"]), po_number=None, requested_date=None,
                               ship_method=None, note=None)
            fixed = self._fixed[key] = (cols, header_event(cols))
        own = {"po_number": po, "requested_date": requested.isoformat() if requested else None, "ship_method": method}
        return {**fixed[0], **own}, {**fixed[1], **own}


def _ascii(name: str) -> str:
    """A name as a mailbox spells it: García -> garcia, O'Brien -> obrien (a mail server may refuse others)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def add_customer_book(c: dbapi.Connection, rng: random.Random, first_id: int) -> None:
    """Addresses, a buyer and the PO / ship-complete marks for the customers from id `first_id` on."""
    addresses: list[tuple] = []
    contacts: list[tuple] = []
    po_required, ship_complete = [], []
    for r in c.execute("SELECT id, name, country FROM customers WHERE id >= ? ORDER BY id", (first_id,)).fetchall():
        country = r["country"] if r["country"] in _CITIES else "United Kingdom"
        city, postcode = rng.choice(_CITIES[country])
        region = _REGIONS.get(country, {}).get(city)
        street = f"{rng.randint(1, 240)} {rng.choice(_STREETS)}"
        addresses.append((r["id"], "ship_to", 1, r["name"], street, city, region, postcode, country))
        addresses.append((r["id"], "bill_to", 1, f"{r['name']} — Accounts payable", street, city, region, postcode,
                          country))
        if rng.random() < SECOND_SITE_SHARE:
            city2, post2 = rng.choice(_CITIES[country])
            addresses.append((r["id"], "ship_to", 0, f"{r['name']} — {rng.choice(_SITES)}",
                              f"Unit {rng.randint(1, 40)}\n{rng.randint(1, 90)} {rng.choice(_STREETS)}", city2,
                              _REGIONS.get(country, {}).get(city2), post2, country))
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        domain = _ascii(r["name"].split()[0]) or "customer"
        contacts.append((r["id"], f"{given} {family}", f"{_ascii(given)}.{_ascii(family)}@{domain}-{r['id']}.example",
                         f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"))
        if rng.random() < PO_REQUIRED_SHARE:
            po_required.append((r["id"],))
        if rng.random() < SHIP_COMPLETE_SHARE:
            ship_complete.append((r["id"],))
    c.executemany("""INSERT INTO customer_addresses (customer_id, kind, is_default, name, street, city, region,
                       postcode, country) VALUES (?,?,?,?,?,?,?,?,?)""", addresses)
    c.executemany("INSERT INTO customer_contacts (customer_id, name, email, phone) VALUES (?,?,?,?)", contacts)
    c.executemany("UPDATE customers SET po_required = 1 WHERE id = ?", po_required)
    c.executemany("UPDATE customers SET ship_complete = 1 WHERE id = ?", ship_complete)


#: the header columns in the order the demo's INSERT names them
HEADER_SQL_COLUMNS = ", ".join(HEADER_COLUMNS)
