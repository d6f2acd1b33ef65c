"""`orderq check` on PostgreSQL: the steps that are the backend's own (db.check runs the rest as is).

- integrity: PostgreSQL enforces foreign keys and CHECKs itself and checksums pages when the
  cluster has them; what can still be wrong is a constraint or index left invalid (NOT VALID, a
  failed CREATE INDEX CONCURRENTLY), so the step lists those.
- the audit log's guard triggers: present, and ENABLE ALWAYS (an ordinary or disabled trigger is
  skipped under `session_replication_role = replica` or after ALTER TABLE … DISABLE TRIGGER).
- the order header's snapshots: SQLite's check is SQL over its JSON functions; here the same
  rules are applied in Python to each snapshot (PostgreSQL 15 has no test for valid JSON text).
"""
from __future__ import annotations

import json
from typing import Any

from core.addresses import ADDRESS_KEYS, STREET_LINES
from db.pg.schema import GUARD_TRIGGERS

_TEXT = ("name", "city", "country")  # as db.check_headers: text, possibly empty; street a list; the rest text or null


def integrity(conn: Any) -> list[str]:
    out = [f"constraint {r[0]} on {r[1]} is not validated"
           for r in conn.execute("SELECT conname, conrelid::regclass::text FROM pg_constraint c"
                                 " JOIN pg_namespace n ON n.oid = c.connamespace"
                                 " WHERE n.nspname = current_schema() AND NOT c.convalidated")]
    out += [f"index {r[0]} is not valid" for r in conn.execute(
        "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
        " AND NOT (i.indisvalid AND i.indisready)")]
    return out


def guard_triggers_present(conn: Any) -> list[str]:
    found = {r[0]: r[1] for r in conn.execute(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass('events') AND NOT tgisinternal")}
    problems = []
    for name in GUARD_TRIGGERS:
        if name not in found:
            problems.append(f"trigger {name} is missing (dropped): the event log can be rewritten")
        elif found[name] != "A":
            problems.append(f"trigger {name} is not ENABLE ALWAYS (it is {'disabled' if found[name] == 'D' else 'skippable'})"
                            ": the event log can be rewritten")
    return problems


def _address_broken(text: str) -> bool:
    """db.check_headers._address_broken's rules, on one snapshot."""
    try:
        a = json.loads(text)
    except ValueError:
        return True
    if not isinstance(a, dict) or any(not isinstance(a.get(k), str) for k in _TEXT):
        return True
    if any(k in a and a[k] is not None and not isinstance(a[k], str) for k in ADDRESS_KEYS
           if k not in _TEXT and k != "street"):
        return True
    street = a.get("street")
    if not isinstance(street, list) or len(street) > STREET_LINES or any(not isinstance(s, str) for s in street):
        return True
    if set(a) - set(ADDRESS_KEYS):
        return True
    return "".join(a.get(k) or "" for k in ADDRESS_KEYS if k != "street") == "" and not street


def _contact_broken(text: str) -> bool:
    try:
        c = json.loads(text)
    except ValueError:
        return True
    return not isinstance(c, dict) or not isinstance(c.get("name"), str) or c["name"] == ""


def header_snapshots_well_formed(conn: Any) -> list[str]:
    problems = []
    for col in ("ship_to", "bill_to"):
        what = col.replace("_", "-")
        for r in conn.execute(f"SELECT number, {col} AS v FROM orders WHERE {col} IS NOT NULL ORDER BY id"):
            if _address_broken(r["v"]):
                problems.append(f"order {r['number']}: its {what} is not a well-formed address "
                                f"(name, street lines, city, region, postcode, country): {str(r['v'])[:80]}")
    for r in conn.execute("SELECT number, contact AS v FROM orders WHERE contact IS NOT NULL ORDER BY id"):
        if _contact_broken(r["v"]):
            problems.append(f"order {r['number']}: its contact has no name: {str(r['v'])[:80]}")
    return problems


#: db.check's check name → PostgreSQL's form of it
OVERRIDES = {
    "integrity_check": integrity,
    "audit log guard triggers present": guard_triggers_present,
    "order header snapshots well formed": header_snapshots_well_formed,
}


def in_savepoint(fn: Any) -> Any:
    """`fn` run in a savepoint: if it fails to read, its error rolls back only the savepoint, so the
    checks after it still run in the same snapshot (PostgreSQL aborts the whole transaction otherwise)."""
    import sqlite3

    def run(conn: Any) -> list[str]:
        conn.execute("SAVEPOINT orderq_check")
        try:
            out = fn(conn)
        except sqlite3.Error:
            conn.execute("ROLLBACK TO SAVEPOINT orderq_check")
            raise
        conn.execute("RELEASE SAVEPOINT orderq_check")
        return out

    return run
