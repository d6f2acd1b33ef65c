"""Migration m001: the whole schema of every feature, laid down at once so that features built in
parallel never raced for migration order; later changes are later migrations (db.migration_steps).

The queue orders live here because the claim indexes are built on them; db.claims and the reads
that must walk those indexes import them (through db.migrations) so query and index agree.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

QUEUE_ORDER = "due_at, priority_level, tier_rank, total_cents DESC, id"
RETURN_QUEUE_ORDER = "due_at, priority_level, tier_rank, refund_cents DESC, id"


def m001_schema(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('rep','returns','supervisor','admin')),
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE user_keys (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            key_type TEXT NOT NULL,
            key_data TEXT NOT NULL,
            fingerprint TEXT NOT NULL UNIQUE,
            comment TEXT,
            added_at REAL NOT NULL
        );
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            tier TEXT NOT NULL DEFAULT 'standard',
            credit_limit_cents INTEGER NOT NULL DEFAULT 0,
            open_balance_cents INTEGER NOT NULL DEFAULT 0,
            country TEXT,
            known INTEGER NOT NULL DEFAULT 1,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            description TEXT NOT NULL DEFAULT '',
            price_e4 INTEGER NOT NULL,
            stock INTEGER NOT NULL DEFAULT 0,
            category TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            state TEXT NOT NULL,
            priority TEXT NOT NULL,
            priority_level INTEGER NOT NULL,
            priority_source TEXT NOT NULL,
            override_note TEXT,
            tier_rank INTEGER NOT NULL,
            received_at REAL NOT NULL,
            due_at REAL NOT NULL,
            paused_s REAL NOT NULL DEFAULT 0,
            hold_reason TEXT,
            hold_note TEXT,
            hold_started_at REAL,
            total_cents INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claim_token TEXT,
            claimed_at REAL,
            lease_expires_at REAL,
            released_at REAL,
            released_by TEXT,
            shipped_at REAL,
            closed_at REAL,
            cancelled_at REAL,
            cancel_reason TEXT,
            straight_through INTEGER NOT NULL DEFAULT 0,
            queue_reason TEXT,
            source_ref TEXT UNIQUE,
            exchange_for_return_id INTEGER,
            created_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX ix_orders_claimable ON orders({QUEUE_ORDER}) WHERE state = 'queued';
        CREATE INDEX ix_orders_state_queue ON orders(state, {QUEUE_ORDER});
        CREATE INDEX ix_orders_lease ON orders(lease_expires_at) WHERE claimed_by IS NOT NULL;
        CREATE INDEX ix_orders_claimed_by ON orders(claimed_by) WHERE claimed_by IS NOT NULL;
        CREATE INDEX ix_orders_received ON orders(received_at);
        CREATE INDEX ix_orders_released ON orders(released_at) WHERE released_at IS NOT NULL;
        CREATE INDEX ix_orders_customer ON orders(customer_id);

        CREATE TABLE order_lines (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL REFERENCES products(sku),
            description TEXT NOT NULL DEFAULT '',
            qty INTEGER NOT NULL CHECK (qty > 0),
            unit_price_e4 INTEGER NOT NULL CHECK (unit_price_e4 >= 0),
            discount_e2 INTEGER NOT NULL DEFAULT 0 CHECK (discount_e2 BETWEEN 0 AND 10000),
            amount_cents INTEGER NOT NULL,
            qty_returned INTEGER NOT NULL DEFAULT 0,
            UNIQUE (order_id, line_no)
        );
        CREATE INDEX ix_order_lines_sku ON order_lines(sku);

        CREATE TABLE order_charges (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            code TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'other' CHECK (kind IN ('shipping','fee','other')),
            description TEXT NOT NULL DEFAULT '',
            amount_cents INTEGER NOT NULL
        );
        CREATE INDEX ix_order_charges_order ON order_charges(order_id);

        CREATE TABLE order_ticks (
            order_id INTEGER NOT NULL REFERENCES orders(id),
            step TEXT NOT NULL,
            ticked_by TEXT NOT NULL,
            ticked_at REAL NOT NULL,
            PRIMARY KEY (order_id, step)
        );

        CREATE TABLE returns (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            state TEXT NOT NULL,
            resolution TEXT NOT NULL,
            priority TEXT NOT NULL,
            priority_level INTEGER NOT NULL,
            tier_rank INTEGER NOT NULL,
            fault INTEGER NOT NULL DEFAULT 0,
            note TEXT,
            requested_by TEXT NOT NULL,
            requested_at REAL NOT NULL,
            due_at REAL NOT NULL,
            needs_approval TEXT,
            approved_by TEXT,
            approved_at REAL,
            rejected_reason TEXT,
            authorized_at REAL,
            received_at REAL,
            inspected_at REAL,
            resolved_at REAL,
            closed_at REAL,
            refund_cents INTEGER NOT NULL DEFAULT 0,
            fee_cents INTEGER NOT NULL DEFAULT 0,
            shipping_refund_cents INTEGER NOT NULL DEFAULT 0,
            exchange_order_id INTEGER REFERENCES orders(id),
            claimed_by TEXT,
            claim_token TEXT,
            claimed_at REAL,
            lease_expires_at REAL,
            source_ref TEXT UNIQUE,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX ix_returns_claimable ON returns({RETURN_QUEUE_ORDER})
            WHERE claimed_by IS NULL AND state IN ('requested','authorized','received','inspected');
        CREATE INDEX ix_returns_state_queue ON returns(state, {RETURN_QUEUE_ORDER});
        CREATE INDEX ix_returns_lease ON returns(lease_expires_at) WHERE claimed_by IS NOT NULL;

        CREATE TABLE return_lines (
            id INTEGER PRIMARY KEY,
            return_id INTEGER NOT NULL REFERENCES returns(id),
            order_id INTEGER NOT NULL REFERENCES orders(id),
            order_line_id INTEGER REFERENCES order_lines(id),
            sku TEXT NOT NULL,
            qty INTEGER NOT NULL CHECK (qty > 0),
            reason TEXT NOT NULL,
            note TEXT,
            opened INTEGER NOT NULL DEFAULT 1,
            qty_received INTEGER,
            grade TEXT,
            disposition TEXT,
            refund_cents INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_return_lines_return ON return_lines(return_id);
        CREATE INDEX ix_return_lines_order_line ON return_lines(order_line_id);

        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            user TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT,
            screen TEXT,
            started_at REAL NOT NULL,
            seen_at REAL NOT NULL
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id INTEGER,
            ref TEXT,
            action TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX ix_events_entity ON events(entity, entity_id, id);
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END;
        """
    )
