"""The schema, as sqlite-utils Migrations. Migrations live here and only here (a PostgreSQL
backend would replace this module).

The whole schema of every feature is laid down by the first migration so features built in
parallel never race for migration order; later changes append new migrations below.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from db.connection import write_tx
from db.event_chain import GUARD_TRIGGERS, backfill

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

MIGRATION_SET = "orderq"


class _Registry:
    """`@migrations()` as in sqlite-utils, but sqlite-utils (and its dateutil, click, ctypes…) is
    imported only when migrations are applied. Opening an up-to-date database — every session's
    start — checks `_sqlite_migrations` with one plain query instead  (tui-queue: ~65 ms less start-up)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[Callable[..., Any], dict[str, Any]]] = []

    def __call__(self, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def inner(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._registered.append((fn, kw))
            return fn

        return inner

    def names(self) -> list[str]:
        return [kw.get("name") or fn.__name__ for fn, kw in self._registered]

    def real(self) -> "Migrations":
        from sqlite_utils import Migrations

        m = Migrations(self.name)
        for fn, kw in self._registered:
            m(**kw)(fn)
        return m


migrations = _Registry(MIGRATION_SET)

QUEUE_ORDER = "due_at, priority_level, tier_rank, total_cents DESC, id"
RETURN_QUEUE_ORDER = "due_at, priority_level, tier_rank, refund_cents DESC, id"


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
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



@migrations()
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


@migrations()
def m700_delivery_outbox(db: Database) -> None:
    """The delivery outbox (db.outbox): one row per message owed to the outside (a paper to a folder, a
    mail, a webhook), written in the same transaction as the event that causes it, and delivered by a
    worker that leases it (`lease_token`, `lease_expires_at`) as the queue leases orders. A pending row is
    due at `next_attempt_at`; a claim pushes that past the lease, so a worker that dies mid-send leaves it
    to the next worker once the lease lapses. The partial index keeps finding the next due row cheap."""
    db.executescript(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            entity TEXT,
            entity_id INTEGER,
            ref TEXT,
            event_id INTEGER,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            next_attempt_at REAL,
            last_error TEXT,
            last_attempt_at REAL,
            sent_at REAL,
            leased_by TEXT,
            lease_token TEXT,
            lease_expires_at REAL
        );
        CREATE INDEX ix_deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
        CREATE INDEX ix_deliveries_failed ON deliveries(id) WHERE state = 'failed';
        CREATE INDEX ix_deliveries_entity ON deliveries(entity, entity_id);
        """
    )


@migrations()
def m710_partners(db: Database) -> None:
    """Partners (SPEC §2 "Partners and electronic channels"): web shops, marketplaces, B2B systems that
    reach orderq by key. The API key is stored only as its SHA-256 (`key_hash`, unique: a request's
    key is looked up by its hash) with a visible prefix for support; the webhook secret is stored as
    given, because verifying an HMAC needs the secret itself."""
    db.executescript(
        """
        CREATE TABLE partners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL CHECK (channel IN ('online','edi')),
            customer_id INTEGER REFERENCES customers(id),
            may_set_prices INTEGER NOT NULL DEFAULT 0,
            key_hash TEXT NOT NULL UNIQUE,
            key_prefix TEXT NOT NULL,
            webhook_secret TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            key_rotated_at REAL,
            version INTEGER NOT NULL DEFAULT 1
        );
        """
    )


@migrations()
def m711_api_idempotency_partner_orders(db: Database) -> None:
    """The HTTP API's side of partners: which partner sent an order (`orders.partner_id`; its external
    reference is the order's `source_ref` as "PARTNER:REF", so the one duplicate check of order entry
    covers it), and the idempotency keys of POST requests, each stored in the transaction that made
    the order, with the response it gave (a replay answers the same). Shopify's webhook ids are
    idempotency keys of their partner too ("shopify:ID")."""
    db.executescript(
        """
        ALTER TABLE orders ADD COLUMN partner_id INTEGER REFERENCES partners(id);
        CREATE INDEX ix_orders_partner ON orders(partner_id) WHERE partner_id IS NOT NULL;
        CREATE TABLE api_idempotency (
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            idem_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (partner_id, idem_key)
        );
        """
    )


@migrations()
def m715_webhooks(db: Database) -> None:
    """Partners' webhook subscriptions (db.webhooks): a URL, the events it wants, the secret its bodies
    are signed with (stored as given: an HMAC needs the secret itself) and whose orders it is told about
    (`scope`: the partner's own, as the API shows them, or every order for a fulfilment system). A removed
    hook keeps its row (`removed_at`) so that its delivery log still reads. `webhook_attempts` is that
    log's detail: one row per try (status code or error), the last few kept per delivery."""
    db.executescript(
        """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT 'partner' CHECK (scope IN ('partner','all')),
            created_at REAL NOT NULL,
            removed_at REAL
        );
        CREATE INDEX ix_webhooks_live ON webhooks(partner_id) WHERE removed_at IS NULL;
        CREATE TABLE webhook_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            at REAL NOT NULL,
            status INTEGER,
            error TEXT,
            duration_ms REAL NOT NULL
        );
        CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
        """
    )


@migrations()
def m765_edi_partner_profiles(db: Database) -> None:
    """EDI on the partners registry (issue 16), not a second registry: a partner gains its interchange
    ids (ISA05:ISA06, or the UNB sender) and the outbox folder its acknowledgments go to; per partner an
    item cross-reference (its code + qualifier -> our SKU) and a party map (its N1/NAD code -> one of its
    customer's addresses). Products gain barcodes (GTIN-14, zero-filled: a UPC-A, an EAN-13 and a GTIN-14
    of one item are the same key), which count as item codes for every partner.

    `edi_interchanges` keeps each interchange read (UNIQUE per partner and reference: a resend is refused
    on one probe); `edi_orders` what an order came from (envelope, raw segments, the partner's lines) for
    the raw view and the 855/ORDRSP; `edi_counters` our control numbers per partner, bumped inside the
    transaction that writes the acknowledgment, so a number is never given out twice."""
    db.executescript(
        """
        ALTER TABLE partners ADD COLUMN isa_qualifier TEXT;
        ALTER TABLE partners ADD COLUMN isa_id TEXT;
        ALTER TABLE partners ADD COLUMN unb_id TEXT;
        ALTER TABLE partners ADD COLUMN edi_outbox TEXT;
        CREATE UNIQUE INDEX ux_partners_isa ON partners(isa_qualifier, isa_id) WHERE isa_id IS NOT NULL;
        CREATE UNIQUE INDEX ux_partners_unb ON partners(unb_id) WHERE unb_id IS NOT NULL;
        CREATE TABLE edi_xref (
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            qualifier TEXT NOT NULL,
            code TEXT NOT NULL,
            sku TEXT NOT NULL REFERENCES products(sku),
            PRIMARY KEY (partner_id, qualifier, code)
        );
        CREATE TABLE edi_party_map (
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            code TEXT NOT NULL,
            address_id INTEGER NOT NULL REFERENCES customer_addresses(id),
            PRIMARY KEY (partner_id, code)
        );
        CREATE TABLE product_barcodes (
            gtin TEXT PRIMARY KEY,
            sku TEXT NOT NULL REFERENCES products(sku)
        );
        CREATE INDEX ix_product_barcodes_sku ON product_barcodes(sku);
        CREATE TABLE edi_interchanges (
            id INTEGER PRIMARY KEY,
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            standard TEXT NOT NULL CHECK (standard IN ('x12','edifact')),
            control_reference TEXT NOT NULL,
            file_name TEXT,
            received_at REAL NOT NULL,
            messages INTEGER NOT NULL,
            accepted INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            envelope TEXT NOT NULL,
            ack_control INTEGER,
            ack_file TEXT,
            UNIQUE (partner_id, control_reference)
        );
        CREATE TABLE edi_orders (
            order_id INTEGER PRIMARY KEY REFERENCES orders(id),
            partner_id INTEGER NOT NULL REFERENCES partners(id),
            interchange_id INTEGER NOT NULL REFERENCES edi_interchanges(id),
            message_control TEXT NOT NULL,
            po_number TEXT NOT NULL,
            purchase_order TEXT NOT NULL,
            raw TEXT NOT NULL,
            line_map TEXT NOT NULL DEFAULT '{}',
            unresolved TEXT NOT NULL DEFAULT '[]',
            ack_control INTEGER,
            acked_at REAL
        );
        CREATE INDEX ix_edi_orders_interchange ON edi_orders(interchange_id);
        CREATE TABLE edi_counters (
            partner_id INTEGER PRIMARY KEY REFERENCES partners(id),
            last_interchange INTEGER NOT NULL DEFAULT 0,
            last_group INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations()
def m900_api_idempotency_in_flight_and_expiry(db: Database) -> None:
    """An Idempotency-Key is reserved 'in_flight' in a short transaction of its own before the order's,
    so a request with the same key in *another* API process sees it and gets 409; the order's
    transaction marks it 'done' with the response. `token`: which request holds the reservation.
    The index serves the expiry (in flight: a crashed request's row frees its key; done: kept 24 h)."""
    db.executescript(
        """
        ALTER TABLE api_idempotency ADD COLUMN state TEXT NOT NULL DEFAULT 'done'
            CHECK (state IN ('in_flight', 'done'));
        ALTER TABLE api_idempotency ADD COLUMN token TEXT;
        CREATE INDEX ix_api_idempotency_created ON api_idempotency(created_at);
        """
    )


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations inside one BEGIN IMMEDIATE, so racing `init`s serialise.

    sqlite-utils turns each migration's own transaction into a savepoint when one is open.
    """
    from sqlite_utils import Database

    db = Database(conn)
    real = migrations.real()
    with write_tx(conn):
        pending = [m.name for m in real.pending(db)]
        if pending:
            real.apply(db)
    return pending


def is_initialised(conn: sqlite3.Connection) -> bool:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'").fetchone():
        return False
    applied = {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                                          (MIGRATION_SET,))}
    return all(n in applied for n in migrations.names())
