"""Databases in the field record each applied migration by name (`_sqlite_migrations`), so the list
must keep every recorded name, in the order it was applied: a renamed migration would run again on
an existing database, and a reordered one would build a new database differently from an old one.
Later migrations may only be added after these."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from db.migrations import migrate, migrations

#: the migrations released so far, in the order they were applied
RECORDED = [
    "m001_schema", "m200_kpi_indexes", "m300_history_flag", "m400_partial_shipments", "m500_event_hash_chain",
    "m600_customer_addresses_contacts_order_header", "m700_delivery_outbox", "m710_partners",
    "m711_api_idempotency_partner_orders", "m715_webhooks", "m765_edi_partner_profiles",
    "m900_api_idempotency_in_flight_and_expiry",
]


def test_recorded_migrations_keep_their_names_and_order() -> None:
    assert migrations.names()[:len(RECORDED)] == RECORDED


def test_a_new_database_records_them_in_that_order(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    assert migrate(conn)[:len(RECORDED)] == RECORDED
    recorded = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert recorded[:len(RECORDED)] == RECORDED
    assert migrate(conn) == []
