"""Migrations m700-m900: the electronic channels — the delivery outbox, partners, the HTTP API's
idempotency keys, webhooks and EDI partner profiles.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


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
