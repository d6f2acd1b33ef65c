"""The bulk write path of imports: the same rows and events as `OrderService._create_in`, written with
executemany inside large write transactions, with products and customers kept in memory.

A transaction always ends on an invoice boundary, so a crash never leaves half an invoice; re-running
the same import skips every `source_ref` already present, which makes the committed chunks a checkpoint.
What differs per backend (starting a chunk, "did anyone else write?", private tables, ids the writer
chose) is the connection's dialect's (db.dialect).
"""
from __future__ import annotations

from db.importer.bulk_cancellations import BulkCancellations, Candidate
from db.importer.bulk_chunk import BulkChunk, Cust, Prod
from db.importer.bulk_orders import BulkOrders, Goods

__all__ = ["Bulk", "BulkChunk", "Candidate", "Cust", "Goods", "Prod"]


class Bulk(BulkOrders, BulkCancellations):
    """Writes orders, returns, products and customers for one import, in chunks.

    Chunk state and master data: db.importer.bulk_chunk; orders: bulk_orders; cancellations:
    bulk_cancellations."""
