"""An existing database gains the shipping columns: what shipped before shipped whole, released stock was taken."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.shipping.conftest import raw


@pytest.mark.sqlite_only("rolls a SQLite file back to before a SQLite migration; PostgreSQL starts from its baseline")
def test_migration_backfills_shipped_and_allocated_on_an_existing_database(demo_db: Path, cli) -> None:  # noqa: ANN001
    c = raw(demo_db)
    # the demo database as the previous release left it: no m400, no shipping columns, and so none of the
    # demo's orders shipped in part (that release could not ship part of an order)
    c.executescript("""CREATE TEMP TABLE part AS SELECT id FROM orders WHERE state = 'backordered';
        DELETE FROM order_ticks WHERE order_id IN (SELECT id FROM part);
        DELETE FROM order_charges WHERE order_id IN (SELECT id FROM part);
        DELETE FROM order_lines WHERE order_id IN (SELECT id FROM part);
        DELETE FROM orders WHERE id IN (SELECT id FROM part);
        DROP INDEX ix_order_lines_short;
        ALTER TABLE order_lines DROP COLUMN qty_allocated; ALTER TABLE order_lines DROP COLUMN qty_shipped;
        ALTER TABLE customers DROP COLUMN ship_complete;
        DELETE FROM _sqlite_migrations WHERE name = 'm400_partial_shipments';""")
    assert cli("--db", str(demo_db), "init").returncode == 0
    got = dict(((r[0], (r[1], r[2], r[3])) for r in c.execute(
        """SELECT o.state, SUM(l.qty), SUM(l.qty_allocated), SUM(l.qty_shipped) FROM orders o
           JOIN order_lines l ON l.order_id = o.id GROUP BY o.state""")))
    assert got["shipped"][0] == got["shipped"][1] == got["shipped"][2] > 0
    assert got["released"][0] == got["released"][1] and got["released"][2] == 0
    assert got["queued"][1:] == (0, 0)
    check = cli("--db", str(demo_db), "check")
    assert check.returncode == 0, check.stdout
