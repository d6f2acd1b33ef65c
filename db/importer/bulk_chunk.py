"""The bulk writer's chunk: the rows an import holds in memory until a chunk commits, the write
transaction around them (begin, flush, commit, rollback), its events, and the customers and
products it creates on first sight. Orders and cancellations are written on top of this
(db.importer.bulk_orders, bulk_cancellations); db.importer.bulk puts them together.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import Tier
from core.intake import IMPORT_CREDIT_LIMIT_CENTS, cents_text
from core.rules import Rules
from db.connection import commit
from db.convert import ts
from db.dbapi import Connection
from db.dialect import of
from db import papers_out, webhooks
from db.events import append_many, dumps

_ORDER_SQL = """INSERT INTO orders (id, number, customer_id, channel, type, state, priority, priority_level,
    priority_source, tier_rank, received_at, due_at, hold_reason, hold_note, hold_started_at,
    total_cents, released_at, released_by, straight_through, queue_reason, source_ref,
    created_by, created_at, updated_at, shipped_at, history, ship_to, ship_to_address_id, bill_to, contact, po_number,
    requested_date, ship_method, note)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"""
_ADDRESS_SQL = """INSERT INTO customer_addresses (customer_id, kind, is_default, name, street, city, region, postcode, country)
  VALUES (?,?,1,?,?,?,?,?,?)"""
_LINE_SQL = """INSERT INTO order_lines (id, order_id, line_no, sku, description, qty, unit_price_e4, discount_e2, amount_cents,
    qty_allocated, qty_shipped)
  VALUES (?,?,?,?,?,?,?,?,?,?,?)"""
#: the tables whose ids the import chooses itself (MAX(id) + 1, kept in memory across a chunk)
_OWN_ID_TABLES = ("orders", "order_lines", "returns")
_CHARGE_SQL = "INSERT INTO order_charges (order_id, code, kind, description, amount_cents) VALUES (?,?,?,?,?)"


@dataclass(slots=True)
class Cust:
    id: int
    code: str
    tier: Tier
    credit_limit_cents: int
    open_balance_cents: int
    known: bool


@dataclass(slots=True)
class Prod:
    description: str
    price_e4: int
    stock: int
    active: bool


class BulkChunk:
    """One import's state across its chunks: what is buffered, what is known, what was created."""

    def __init__(self, conn: Connection, *, rules: Rules, now: datetime, actor: str) -> None:
        self.conn = conn
        self.dialect = of(conn)
        self.rules = rules
        self.now = now
        self.now_ts = ts(now)
        self.actor = actor
        self.order_rows: list[tuple] = []
        self.line_rows: list[tuple] = []
        self.charge_rows: list[tuple] = []
        self.event_rows: list[tuple] = []
        #: orders released straight through in this chunk: their papers are owed (db.papers_out)
        self.released: list[int] = []
        self.stock_delta: dict[str, int] = defaultdict(int)
        self.stock_writes: dict[str, int] = defaultdict(int)
        self.order_refs: set[str] = {r[0] for r in conn.execute("SELECT source_ref FROM orders WHERE source_ref IS NOT NULL")}
        self.return_refs: set[str] = {r[0] for r in conn.execute("SELECT source_ref FROM returns WHERE source_ref IS NOT NULL")}
        self.customers: dict[str, Cust] = {}
        self.products: dict[str, Prod] = {}
        self.customers_created = 0
        self.products_created = 0
        self.addresses_created = 0
        self.contacts_created = 0
        #: customer id -> (default ship-to id, its snapshot, default bill-to snapshot, first contact): the header
        #: live entry would give an order that names none
        self._header_defaults: dict[int, tuple[int | None, dict | None, dict | None, dict | None]] = {}
        self._seen_version: object = None
        self._changes_at_begin = 0

    # ---- transactions ------------------------------------------------------------------------
    def begin(self) -> None:
        self.dialect.begin_bulk(self.conn)
        self._changes_at_begin = self.conn.total_changes
        # other sessions may have written between chunks: then start from the database, not from memory.
        # the data version changes only when another connection commits, so an unchanged one means memory is right.
        version = self.dialect.data_version(self.conn)
        if version == self._seen_version:
            return
        self._header_defaults.clear()
        self.customers = {
            r[1]: Cust(r[0], r[1], Tier(r[2]), r[3], r[4], bool(r[5]))
            for r in self.conn.execute("SELECT id, code, tier, credit_limit_cents, open_balance_cents, known FROM customers")
        }
        self.products = {
            r[0]: Prod(r[1], r[2], r[3], bool(r[4]))
            for r in self.conn.execute("SELECT sku, description, price_e4, stock, active FROM products")
        }
        self.next_order = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders").fetchone()[0])
        self.next_return = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM returns").fetchone()[0])
        self.next_line = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM order_lines").fetchone()[0])

    def commit(self) -> None:
        self.flush()
        self.dialect.ids_assigned(self.conn, _OWN_ID_TABLES)
        commit(self.conn, self._changes_at_begin)
        self._seen_version = self.dialect.data_version(self.conn)

    def rollback(self) -> None:
        self._seen_version = None
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.order_rows.clear()
        self.line_rows.clear()
        self.charge_rows.clear()
        self.event_rows.clear()
        self.released.clear()
        self.stock_delta.clear()
        self.stock_writes.clear()

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.dialect.temp}intake_match")
        self.conn.execute(f"DROP TABLE IF EXISTS {self.dialect.temp}intake_keys")

    def flush(self) -> None:
        c = self.conn
        if self.order_rows:
            c.executemany(_ORDER_SQL, self.order_rows)
            c.executemany(_LINE_SQL, self.line_rows)
            if self.charge_rows:
                c.executemany(_CHARGE_SQL, self.charge_rows)
            self.order_rows.clear()
            self.line_rows.clear()
            self.charge_rows.clear()
        if self.event_rows:
            append_many(c, self.event_rows)  # the one event writer: chained like every other event
            self.event_rows.clear()
        if self.released:
            papers_out.on_release(c, self.rules, self.released, self.now)
            webhooks.order_event(c, "order.released", self.released, now=self.now, action="auto_release")
            self.released.clear()
        if self.stock_writes:
            c.executemany(
                "UPDATE products SET stock = stock + ?, version = version + ? WHERE sku = ?",
                [(self.stock_delta[s], n, s) for s, n in self.stock_writes.items()],
            )
            self.stock_delta.clear()
            self.stock_writes.clear()

    def event(self, entity: str, entity_id: int | None, ref: str | None, action: str, data: dict[str, Any],
              actor: str | None = None) -> None:
        self.event_rows.append((self.now_ts, actor or self.actor, entity, entity_id, ref, action, dumps(data)))

    # ---- master data -------------------------------------------------------------------------
    def ensure_customer(self, code: str, name: str, country: str | None, *, known: bool = True,
                        tier: Tier = Tier.STANDARD, credit_limit_cents: int = IMPORT_CREDIT_LIMIT_CENTS,
                        address: dict[str, Any] | None = None, bill_to: bool = False,
                        contact: dict[str, Any] | None = None) -> Cust:
        """The customer, created on first sight with its `address` (the default ship-to, and the default
        bill-to too when `bill_to`) and `contact`; a customer already known keeps what it has."""
        cust = self.customers.get(code)
        if cust is not None:
            return cust
        cur = self.conn.execute(
            "INSERT INTO customers (code, name, tier, credit_limit_cents, open_balance_cents, country, known)"
            " VALUES (?,?,?,?,0,?,?)", (code, name, tier.value, credit_limit_cents, country, int(known)))
        cust = Cust(int(cur.lastrowid or 0), code, tier, credit_limit_cents, 0, known)
        self.customers[code] = cust
        self.customers_created += 1
        data: dict[str, Any] = {"name": name, "country": country, "known": known, "tier": tier.value,
                                "credit_limit": cents_text(credit_limit_cents), "imported": True}
        if address is not None:
            parts = (address["name"] or "", "\n".join(address["street"]), address["city"] or "", address["region"],
                     address["postcode"], address["country"] or "")
            kinds = ("ship_to", "bill_to") if bill_to else ("ship_to",)
            self.conn.executemany(_ADDRESS_SQL, [(cust.id, k, *parts) for k in kinds])
            self.addresses_created += len(kinds)
            data["address"] = address
        if contact is not None:
            self.conn.execute("INSERT INTO customer_contacts (customer_id, name, email, phone) VALUES (?,?,?,?)",
                              (cust.id, contact["name"], contact.get("email"), contact.get("phone")))
            self.contacts_created += 1
            data["contact"] = contact
        self.event("customer", cust.id, code, "created", data)
        return cust

    def ensure_product(self, sku: str, description: str, price_e4: int, stock: int, *,
                       category: str | None = None, active: bool = True) -> Prod:
        prod = self.products.get(sku)
        if prod is not None:
            return prod
        self.conn.execute(
            "INSERT INTO products (sku, description, price_e4, stock, category, active) VALUES (?,?,?,?,?,?)",
            (sku, description, price_e4, stock, category, int(active)))
        prod = Prod(description, price_e4, stock, active)
        self.products[sku] = prod
        self.products_created += 1
        data: dict[str, Any] = {"description": description, "price_e4": price_e4, "active": active, "imported": True}
        if stock:
            data["stock"] = {sku: stock}
        self.event("product", None, sku, "created", data)
        return prod
