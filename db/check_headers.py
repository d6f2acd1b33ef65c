"""`orderq check` invariants for the order header (added to db.check.CHECKS).

An order keeps its ship-to, bill-to and contact as JSON snapshots (core.addresses.header_cols), so a
later edit of the customer's address book never rewrites where an order went. Nothing but raw SQL or a
bug writes them badly, and a pick ticket or acknowledgment printed from a broken one is wrong paper:

- every address snapshot is a JSON object with each part of an address (core.addresses.ADDRESS_KEYS):
  name, city and country as text (an import's may be empty: online-retail gives a country only), region
  and postcode text or null, street a list of at most STREET_LINES lines, and not every part empty;
- a contact snapshot is an object with a name;
- a `ship_to_address_id`, when set, names a ship-to address of the order's own customer.
"""
from __future__ import annotations

import sqlite3

from core.addresses import ADDRESS_KEYS, STREET_LINES

#: the parts an address snapshot holds as text (possibly empty); the rest are text or null, street a list
_TEXT = ("name", "city", "country")


def _address_broken(col: str) -> str:
    """SQL true when the snapshot in `col` is not a well-formed address (evaluated only when it is valid JSON)."""
    text = " OR ".join(f"json_type({col}, '$.{k}') IS NOT 'text'" for k in _TEXT)
    optional = " OR ".join(f"json_type({col}, '$.{k}') NOT IN ('text', 'null')" for k in ADDRESS_KEYS
                           if k not in _TEXT and k != "street")
    parts = " || ".join(f"COALESCE(json_extract({col}, '$.{k}'), '')" for k in ADDRESS_KEYS if k != "street")
    return (f"json_type({col}) != 'object' OR {text} OR {optional} OR json_type({col}, '$.street') IS NOT 'array'"
            f" OR json_array_length({col}, '$.street') > {STREET_LINES}"
            f" OR EXISTS (SELECT 1 FROM json_each({col}, '$.street') WHERE type != 'text')"
            f" OR (SELECT COUNT(*) FROM json_each({col}) WHERE key NOT IN ({', '.join(repr(k) for k in ADDRESS_KEYS)})) > 0"
            f" OR ({parts} = '' AND json_array_length({col}, '$.street') = 0)")


def header_snapshots_well_formed(conn: sqlite3.Connection) -> list[str]:
    problems = []
    for col in ("ship_to", "bill_to"):
        what = col.replace("_", "-")
        for r in conn.execute(f"SELECT number, {col} AS v FROM orders WHERE {col} IS NOT NULL AND "
                              f"(NOT json_valid({col}) OR ({_address_broken(col)})) ORDER BY id"):
            problems.append(f"order {r['number']}: its {what} is not a well-formed address "
                            f"(name, street lines, city, region, postcode, country): {str(r['v'])[:80]}")
    for r in conn.execute("""SELECT number, contact AS v FROM orders WHERE contact IS NOT NULL AND (NOT json_valid(contact)
                               OR json_type(contact) != 'object' OR json_type(contact, '$.name') IS NOT 'text'
                               OR json_extract(contact, '$.name') = '') ORDER BY id"""):
        problems.append(f"order {r['number']}: its contact has no name: {str(r['v'])[:80]}")
    return problems


def ship_to_address_is_the_customers(conn: sqlite3.Connection) -> list[str]:
    return [
        f"order {r['number']}: ship_to_address_id {r['aid']} is "
        + ("no address" if r["owner"] is None else
           f"a {r['kind'].replace('_', '-')} address of customer {r['owner']}, not a ship-to of {r['code']}")
        for r in conn.execute(
            """SELECT o.number, o.ship_to_address_id AS aid, c.code, a.kind, oc.code AS owner
               FROM orders o JOIN customers c ON c.id = o.customer_id
               LEFT JOIN customer_addresses a ON a.id = o.ship_to_address_id
               LEFT JOIN customers oc ON oc.id = a.customer_id
               WHERE o.ship_to_address_id IS NOT NULL
                 AND (a.id IS NULL OR a.customer_id != o.customer_id OR a.kind != 'ship_to') ORDER BY o.id""")
    ]


HEADER_CHECKS = [
    ("order header snapshots well formed", header_snapshots_well_formed),
    ("ship-to address is the customer's", ship_to_address_is_the_customers),
]
