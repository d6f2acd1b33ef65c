"""Cancellations in a bulk import: matching each cancelled line to the earlier order lines it takes
units back from (a connection-private index of just the pairs named), and writing the resolved
refund return that settles it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.enums import OrderState
from core.intake import amount_cents, cents_text, return_class
from core.triage import due_at
from db.convert import ts
from db.importer.bulk_chunk import BulkChunk, Cust

#: a connection-private lookup (customer, SKU) -> earlier lines, so matching a cancellation is one index probe
#: ({temp}, {clustered}, {double}: the dialect's private-table schema, key-ordered storage, epoch-seconds type)
_MATCH_DDL = """DROP TABLE IF EXISTS {temp}intake_match;
  DROP TABLE IF EXISTS {temp}intake_keys;
  CREATE TEMP TABLE intake_keys (customer_id BIGINT NOT NULL, sku TEXT NOT NULL, PRIMARY KEY (customer_id, sku))
    {clustered};
  CREATE TEMP TABLE intake_match (
    customer_id BIGINT NOT NULL, sku TEXT NOT NULL, received_at {double} NOT NULL, seq BIGINT NOT NULL,
    line_id BIGINT NOT NULL, order_id BIGINT NOT NULL)"""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier order line a cancellation may take units back from."""

    line_id: int
    order_id: int
    returnable: int       # units bought and not yet returned
    paid_e4: int          # unit price the customer paid
    shipped: bool         # a return takes back only what shipped (SPEC §2)


class BulkCancellations(BulkChunk):
    """Earlier lines a cancellation may take back, and the return that records it."""

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
