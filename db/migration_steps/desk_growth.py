"""Migrations m200-m600: what the desk needed after the first schema — KPI indexes, the history
flag, partial shipments, the audit log's hash chain, customer addresses and the order header.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from db.event_chain import GUARD_TRIGGERS, backfill

if TYPE_CHECKING:
    from sqlite_utils import Database


def m200_kpi_indexes(db: Database) -> None:
    """KPI and wallboard reads: every figure is an index range or an index-only count, never a scan.

    The covering indexes let the day's releases and arrivals be read from the index alone (no row
    lookups), which keeps a wallboard refresh in milliseconds at 100,000 orders.
    """
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS ix_orders_state_received ON orders(state, received_at);
        CREATE INDEX IF NOT EXISTS ix_orders_released_kpi
            ON orders(released_at, received_at, due_at, straight_through, released_by) WHERE released_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_orders_received_kpi ON orders(received_at, channel, state, hold_reason);
        CREATE INDEX IF NOT EXISTS ix_orders_on_hold_kpi
            ON orders(due_at, hold_reason, hold_started_at) WHERE state = 'on_hold';
        CREATE INDEX IF NOT EXISTS ix_orders_shipped ON orders(shipped_at) WHERE shipped_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_order_lines_order_qty ON order_lines(order_id, qty);
        CREATE INDEX IF NOT EXISTS ix_returns_requested ON returns(requested_at);
        CREATE INDEX IF NOT EXISTS ix_returns_received ON returns(received_at) WHERE received_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_returns_inspected ON returns(inspected_at) WHERE inspected_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_returns_resolved ON returns(resolved_at) WHERE resolved_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_events_action_at ON events(action, at);
        CREATE INDEX IF NOT EXISTS ix_sessions_seen ON sessions(seen_at);
        """
    )


def m300_history_flag(db: Database) -> None:
    """`history = 1` marks an order or return imported from a record of completed sales (`import --history`,
    Northwind's shipped orders, imported cancellations): it happened before this desk saw it, so the KPIs that
    measure the desk's own work (cycle time, SLA met, touchless, hold and cancel rates, handling, return and
    refund times) leave it out, while those it does define (shipped units, returns, channel) keep it.

    The covering KPI indexes gain the column so those reads stay index-only. Rows imported before this
    migration are marked by what they already carried: released by `import`, or a return with a source_ref.
    """
    db.executescript(
        """
        ALTER TABLE orders ADD COLUMN history INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE returns ADD COLUMN history INTEGER NOT NULL DEFAULT 0;
        UPDATE orders SET history = 1 WHERE released_by = 'import';
        UPDATE returns SET history = 1 WHERE source_ref IS NOT NULL;
        DROP INDEX IF EXISTS ix_orders_released_kpi;
        CREATE INDEX ix_orders_released_kpi
            ON orders(released_at, received_at, due_at, straight_through, released_by, history)
            WHERE released_at IS NOT NULL;
        DROP INDEX IF EXISTS ix_orders_received_kpi;
        CREATE INDEX ix_orders_received_kpi ON orders(received_at, channel, state, hold_reason, history);
        """
    )


def m400_partial_shipments(db: Database) -> None:
    """Partial shipments and backorders (issue 13 §3). Per order line, `qty_allocated` counts stock taken
    off the shelf for it (at release, or as stock is received) and `qty_shipped` what has shipped, so a
    line's backorder is qty − qty_allocated. `customers.ship_complete` marks a customer who takes one
    complete shipment only.

    Orders already released had all their stock taken at release; shipped and closed ones shipped whole.
    The index serves `stock receive`: lines still short of stock, by SKU.
    """
    db.executescript(
        """
        ALTER TABLE order_lines ADD COLUMN qty_allocated INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN qty_shipped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE customers ADD COLUMN ship_complete INTEGER NOT NULL DEFAULT 0;
        UPDATE order_lines SET qty_allocated = qty,
               qty_shipped = CASE WHEN (SELECT state FROM orders o WHERE o.id = order_id) IN ('shipped','closed')
                                  THEN qty ELSE 0 END
         WHERE order_id IN (SELECT id FROM orders WHERE state IN ('released','shipped','closed'));
        CREATE INDEX ix_order_lines_short ON order_lines(sku, order_id) WHERE qty_allocated < qty;
        """
    )


def m500_event_hash_chain(db: Database) -> None:
    """Tamper evidence for the audit log (SPEC §6): each event gets `prev_hash` and `hash`, the
    existing events are chained in id order, and a trigger refuses a REPLACE of an existing event
    (REPLACE deletes without firing the DELETE trigger). The guard triggers are recreated from
    db.event_chain.GUARD_TRIGGERS, the definitions `orderq check` compares against."""
    conn = db.conn
    for name in GUARD_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    cols = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    for col in ("prev_hash", "hash"):
        if col not in cols:
            conn.execute(f"ALTER TABLE events ADD COLUMN {col} TEXT")
    backfill(conn)
    for sql in GUARD_TRIGGERS.values():
        conn.execute(sql)



def m600_customer_addresses_contacts_order_header(db: Database) -> None:
    """Customers gain addresses (ship-to / bill-to, at most one default of each kind), contacts, and
    "PO required"; orders gain the header a real desk takes: ship-to, bill-to and contact as JSON
    *snapshots* (a later edit of the customer's address never rewrites an order's history; the
    address id it came from is kept beside it), the customer's PO number, a requested delivery date,
    a shipping method and a note. The (customer, PO) index makes the duplicate-PO check one probe."""
    db.executescript(
        """
        CREATE TABLE customer_addresses (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            kind TEXT NOT NULL CHECK (kind IN ('ship_to','bill_to')),
            is_default INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL DEFAULT '',
            region TEXT,
            postcode TEXT,
            country TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX ix_customer_addresses_customer ON customer_addresses(customer_id, kind);
        CREATE UNIQUE INDEX ux_customer_addresses_default ON customer_addresses(customer_id, kind)
            WHERE is_default = 1;
        CREATE TABLE customer_contacts (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            name TEXT NOT NULL,
            email TEXT,
            phone TEXT,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX ix_customer_contacts_customer ON customer_contacts(customer_id);
        ALTER TABLE customers ADD COLUMN po_required INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE orders ADD COLUMN ship_to TEXT;
        ALTER TABLE orders ADD COLUMN ship_to_address_id INTEGER;
        ALTER TABLE orders ADD COLUMN bill_to TEXT;
        ALTER TABLE orders ADD COLUMN contact TEXT;
        ALTER TABLE orders ADD COLUMN po_number TEXT;
        ALTER TABLE orders ADD COLUMN requested_date TEXT;
        ALTER TABLE orders ADD COLUMN ship_method TEXT;
        ALTER TABLE orders ADD COLUMN note TEXT;
        CREATE INDEX ix_orders_customer_po ON orders(customer_id, po_number) WHERE po_number IS NOT NULL;
        """
    )
