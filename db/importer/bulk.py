"""The bulk write path of imports: the same rows and events as `OrderService._create_in`, written with
executemany inside large write transactions, with products and customers kept in memory.

A transaction always ends on an invoice boundary, so a crash never leaves half an invoice; re-running
the same import skips every `source_ref` already present, which makes the committed chunks a checkpoint.
What differs per backend (starting a chunk, "did anyone else write?", private tables, ids the writer
chose) is the connection's dialect's (db.dialect).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from core.addresses import HEADER_COLUMNS, header_cols, header_event, past_date_reason
from core.enums import Channel, OrderState, Tier
from core.intake import IMPORT_CREDIT_LIMIT_CENTS, amount_cents, cents_text, return_class
from core.orders import decide
from core.rules import Rules
from core.triage import classify, due_at
from db.connection import commit
from db.convert import ts
from db.dbapi import Connection
from db.dialect import of
from db import papers_out, webhooks
from db.events import append_many, dumps
from db.service.customers import address_dict, snapshot

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
#: a connection-private lookup (customer, SKU) -> earlier lines, so matching a cancellation is one index probe
#: ({temp}, {clustered}, {double}: the dialect's private-table schema, key-ordered storage, epoch-seconds type)
_MATCH_DDL = """DROP TABLE IF EXISTS {temp}intake_match;
  DROP TABLE IF EXISTS {temp}intake_keys;
  CREATE TEMP TABLE intake_keys (customer_id BIGINT NOT NULL, sku TEXT NOT NULL, PRIMARY KEY (customer_id, sku))
    {clustered};
  CREATE TEMP TABLE intake_match (
    customer_id BIGINT NOT NULL, sku TEXT NOT NULL, received_at {double} NOT NULL, seq BIGINT NOT NULL,
    line_id BIGINT NOT NULL, order_id BIGINT NOT NULL)"""
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier order line a cancellation may take units back from."""

    line_id: int
    order_id: int
    returnable: int       # units bought and not yet returned
    paid_e4: int          # unit price the customer paid
    shipped: bool         # a return takes back only what shipped (SPEC §2)


@dataclass(slots=True)
class Goods:
    """A priced line to write. Anything with these four attributes will do (core.intake.SourceLine has them)."""

    sku: str
    qty: int
    price_e4: int
    discount_e2: int = 0


class Bulk:
    """Writes orders, returns, products and customers for one import, in chunks."""

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

    # ---- orders ------------------------------------------------------------------------------
    def header(self, customer: Cust, ship_to: dict[str, Any] | None, *, live: bool, requested_date: date | None = None,
               ship_method: str | None = None) -> tuple:
        """The header columns (core.addresses.HEADER_COLUMNS order) live entry writes for this order: the
        source's ship-to (else the customer's default), the default bill-to and first contact, the source's
        requested date, and its shipping method (for live work, else the rules' default). History gets only
        what its source recorded: the rest was never known."""
        if not live:
            return tuple(header_cols(ship_to=ship_to, ship_to_address_id=None, bill_to=None, contact=None,
                                     po_number=None, requested_date=requested_date, ship_method=ship_method,
                                     note=None).values())
        d = self._header_defaults.get(customer.id)
        if d is None:
            c = self.conn
            ship = c.execute("SELECT * FROM customer_addresses WHERE customer_id = ? AND kind = 'ship_to' AND is_default = 1",
                             (customer.id,)).fetchone()
            bill = c.execute("SELECT * FROM customer_addresses WHERE customer_id = ? AND kind = 'bill_to' AND is_default = 1",
                             (customer.id,)).fetchone()
            who = c.execute("SELECT name, email, phone FROM customer_contacts WHERE customer_id = ? ORDER BY id LIMIT 1",
                            (customer.id,)).fetchone()
            d = (ship["id"] if ship else None, snapshot(address_dict(ship)) if ship else None,
                 snapshot(address_dict(bill)) if bill else None,
                 {"name": who[0], "email": who[1], "phone": who[2]} if who else None)
            self._header_defaults[customer.id] = d
        ship_id, default_ship, bill, contact = d
        if ship_to is None or ship_to == default_ship:
            ship_to, sid = default_ship, ship_id
        else:
            sid = None
        return tuple(header_cols(ship_to=ship_to, ship_to_address_id=sid, bill_to=bill, contact=contact, po_number=None,
                                 requested_date=requested_date, ship_method=ship_method or self.rules.ship_methods[0],
                                 note=None).values())

    def _priced(self, oid: int, goods: list[Goods]) -> tuple[list[tuple], int, dict[str, int], int]:
        rows = []
        total = 0
        needs: dict[str, int] = defaultdict(int)
        max_qty = 0
        lid = self.next_line
        self.next_line += len(goods)
        products = self.products
        for i, g in enumerate(goods, start=1):
            qty, p = g.qty, g.price_e4
            if g.discount_e2:
                amt = amount_cents(qty, p, g.discount_e2)
            else:  # the common case, inlined: qty × price half-even to the cent
                q, r = divmod(qty * p, 100)
                amt = q + 1 if r > 50 or (r == 50 and q & 1) else q
            rows.append((lid, oid, i, g.sku, products[g.sku].description, qty, p, g.discount_e2, amt))
            lid += 1
            total += amt
            needs[g.sku] += qty
            if qty > max_qty:
                max_qty = qty
        return rows, total, needs, max_qty

    def add_order(self, *, ref: str, customer: Cust, channel: Channel, order_type: str, received_at: datetime,
                  goods: list[Goods], charges: list[tuple[str, str, str, int]],
                  ship_to: dict[str, Any] | None = None, requested_date: date | None = None,
                  ship_method: str | None = None) -> tuple[OrderState, int]:
        """One order exactly as live entry creates it: rows, state, holds, straight-through, events, stock.
        A requested date already past queues it for a rep with that reason, as live entry does for an
        untyped order (db.service.order_header.header_columns)."""
        oid = self.next_order
        self.next_order += 1
        number = f"SO-{oid:06d}"
        rows, total, needs, max_qty = self._priced(oid, goods)
        total += sum(ch[3] for ch in charges)
        products = self.products
        available = {g.sku: products[g.sku].stock for g in goods}
        d = decide(
            rules=self.rules, channel=channel, order_type=order_type, tier=customer.tier, known=customer.known,
            received_at=received_at, total_cents=total, open_balance_cents=customer.open_balance_cents,
            credit_limit_cents=customer.credit_limit_cents, needs=needs, available=available,
            inactive_skus=[g.sku for g in goods if not products[g.sku].active], max_line_qty=max_qty,
        )
        late = past_date_reason(requested_date, self.now.date())
        if late and d.state in (OrderState.QUEUED, OrderState.RELEASED):
            d = replace(d, state=OrderState.QUEUED, straight=False,
                        queue_reason="; ".join(([d.queue_reason] if d.queue_reason else []) + [late]))
        now_ts = self.now_ts
        hold = d.hold
        head = self.header(customer, ship_to, live=True, requested_date=requested_date, ship_method=ship_method)
        self.order_rows.append((
            oid, number, customer.id, channel.value, order_type, d.state.value, d.cls.priority.value,
            d.cls.priority.level, d.cls.source, customer.tier.rank, ts(received_at), ts(d.due),
            hold.reason.value if hold else None, hold.note if hold else None, now_ts if hold else None, total,
            now_ts if d.straight else None, "system" if d.straight else None, int(d.straight), d.queue_reason,
            ref, self.actor, now_ts, now_ts, None, 0, *head,
        ))
        # straight through: released with its stock taken, as live entry does; else nothing allocated yet
        self.line_rows.extend((*r, r[5] if d.straight else 0, 0) for r in rows)
        self.charge_rows.extend((oid, *ch) for ch in charges)
        data: dict[str, Any] = {
            "state": OrderState.QUEUED.value if d.straight else d.state.value, "customer": customer.code,
            "channel": channel.value, "type": order_type, "priority": d.cls.priority.value,
            "total": cents_text(total), "lines": len(rows), "source_ref": ref,
            "header": header_event(dict(zip(HEADER_COLUMNS, head))),
        }
        if hold:
            data["hold"] = {"reason": hold.reason.value, "note": hold.note}
        if d.queue_reason:
            data["queue_reason"] = d.queue_reason
        self.event("order", oid, number, "created", data)
        if d.straight:
            stock = {}
            for sku, qty in needs.items():
                products[sku].stock -= qty
                self.stock_delta[sku] -= qty
                self.stock_writes[sku] += 1
                stock[sku] = -qty
            self.event("order", oid, number, "auto_release",
                       {"state": "released", "stock": stock, "straight_through": True}, actor="system")
            self.released.append(oid)
        self.order_refs.add(ref)
        return d.state, total

    def add_historical_order(self, *, ref: str, customer: Cust, channel: Channel, order_type: str,
                             received_at: datetime, shipped_at: datetime, goods: list[Goods],
                             charges: list[tuple[str, str, str, int]],
                             due: datetime | None = None, ship_to: dict[str, Any] | None = None,
                             requested_date: date | None = None, ship_method: str | None = None) -> tuple[OrderState, int]:
        """An order that was fulfilled before the import: it arrives shipped on its real date (released then
        too: when it was handed on is not recorded, only that it shipped), marked `history`, and its stock is
        long gone. `due`: the date the source says it was required by (else the class's SLA)."""
        oid = self.next_order
        self.next_order += 1
        number = f"SO-{oid:06d}"
        rows, total, _needs, _ = self._priced(oid, goods)
        total += sum(ch[3] for ch in charges)
        cls = classify(self.rules, order_type, customer.tier)
        due = due or due_at(received_at, cls.priority, self.rules)
        self.order_rows.append((
            oid, number, customer.id, channel.value, order_type, OrderState.SHIPPED.value, cls.priority.value,
            cls.priority.level, cls.source, customer.tier.rank, ts(received_at), ts(due), None, None, None, total,
            ts(shipped_at), "import", 0, None, ref, self.actor, self.now_ts, self.now_ts, ts(shipped_at), 1,
            *self.header(customer, ship_to, live=False, requested_date=requested_date, ship_method=ship_method),
        ))
        self.line_rows.extend((*r, r[5], r[5]) for r in rows)  # shipped whole before the import
        self.charge_rows.extend((oid, *ch) for ch in charges)
        self.event("order", oid, number, "created", {
            "state": OrderState.SHIPPED.value, "customer": customer.code, "channel": channel.value,
            "type": order_type, "priority": cls.priority.value, "total": cents_text(total), "lines": len(rows),
            "source_ref": ref, "imported": "shipped before import",
        })
        self.order_refs.add(ref)
        return OrderState.SHIPPED, total

    # ---- cancellations -----------------------------------------------------------------------
    def prepare_matching(self, keys: set[tuple[int, str]]) -> None:
        """Index the earlier lines of just the (customer, SKU) pairs that pending cancellations name."""
        self.flush()
        d, c = self.dialect, self.conn
        for stmt in _MATCH_DDL.format(temp=d.temp, clustered=d.clustered, double=d.double).split(";"):
            c.execute(stmt)
        c.executemany(f"INSERT INTO {d.temp}intake_keys VALUES (?,?)", sorted(keys))
        c.execute(
            f"""INSERT INTO {d.temp}intake_match
               SELECT o.customer_id, l.sku, o.received_at, {d.invoice_seq(c, 'o.source_ref')}, l.id, l.order_id
               FROM {d.temp}intake_keys k JOIN orders o ON o.customer_id = k.customer_id
               JOIN order_lines l ON l.order_id = o.id AND l.sku = k.sku""")
        c.execute(d.temp_index("ix_intake_match", "intake_match", "customer_id, sku, received_at"))

    def candidates(self, customer_id: int, sku: str, before_ts: float, before_seq: int) -> list[Candidate]:
        """Earlier lines of this customer and SKU with units not yet returned, the most recent first (a
        cancellation usually undoes a recent order). Earlier: received before `before_ts`, or in the same
        minute with a lower invoice number (`before_seq`) — never a later invoice, wherever it sits in the file."""
        return [
            Candidate(r[0], r[1], r[2], r[3], OrderState(r[4]).returnable) for r in self.conn.execute(
                f"""SELECT t.line_id, t.order_id, l.qty - l.qty_returned, l.unit_price_e4, o.state
                   FROM {self.dialect.temp}intake_match t JOIN order_lines l ON l.id = t.line_id JOIN orders o ON o.id = t.order_id
                   WHERE t.customer_id = ? AND t.sku = ? AND t.received_at <= ?
                     AND (t.received_at < ? OR t.seq < ?) AND l.qty > l.qty_returned
                   ORDER BY t.received_at DESC, t.seq DESC, t.line_id DESC""",
                (customer_id, sku, before_ts, before_ts, before_seq),
            )
        ]

    def add_return(self, *, ref: str, customer: Cust, requested_at: datetime,
                   lines: list[tuple[int, int, int, str, int, int, str]]) -> int:
        """A resolved refund return: lines are (order id, order line id, qty, sku, price e4, row, order number)."""
        rid = self.next_return
        self.next_return += 1
        number = f"RMA-{rid:06d}"
        cls = return_class(self.rules, customer.tier)
        due = due_at(requested_at, cls.priority, self.rules)
        refund = 0
        rl_rows = []
        for oid, lid, qty, sku, p_e4, row, _num in lines:
            amt = amount_cents(qty, p_e4)
            refund += amt
            # a cancellation settles the whole quantity: it counts as received for the returns ledger
            rl_rows.append((rid, oid, lid, sku, qty, qty, "other", f"imported cancellation {ref} row {row}", 1, amt))
        note = f"imported cancellation {ref}"
        self.conn.execute(
            """INSERT INTO returns (id, number, customer_id, state, resolution, priority, priority_level, tier_rank,
                 fault, note, requested_by, requested_at, due_at, received_at, resolved_at, refund_cents, fee_cents,
                 shipping_refund_cents, source_ref, created_at, updated_at, history)
               VALUES (?,?,?,'resolved','refund',?,?,?,0,?,?,?,?,?,?,?,0,0,?,?,?,1)""",
            (rid, number, customer.id, cls.priority.value, cls.priority.level, customer.tier.rank, note, self.actor,
             ts(requested_at), ts(due), ts(requested_at), ts(requested_at), refund, ref, self.now_ts, self.now_ts),
        )
        self.conn.executemany(
            """INSERT INTO return_lines (return_id, order_id, order_line_id, sku, qty, qty_received, reason, note, opened,
                 refund_cents) VALUES (?,?,?,?,?,?,?,?,?,?)""", rl_rows)
        self.conn.executemany("UPDATE order_lines SET qty_returned = qty_returned + ? WHERE id = ?",
                              [(ln[2], ln[1]) for ln in lines])
        self.event("return", rid, number, "created", {
            "state": "resolved", "customer": customer.code, "resolution": "refund",
            "priority": cls.priority.value, "priority_source": cls.source,
            "orders": sorted({ln[6] for ln in lines}), "refund": cents_text(refund), "fee": "0.00", "note": note,
            "lines": [{"order": ln[6], "sku": ln[3], "qty": ln[2], "reason": "other"} for ln in lines],
            "source_ref": ref, "imported": True,
        })
        self.return_refs.add(ref)
        return refund
