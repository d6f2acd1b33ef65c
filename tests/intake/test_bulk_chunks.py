"""Between chunks other sessions may write: the next chunk starts from the database, not from memory."""
from __future__ import annotations

import pytest

from datetime import UTC, datetime
from pathlib import Path

from core.enums import Channel
from db.connection import connect
from db.importer.bulk import Bulk, Goods


@pytest.mark.sqlite_only("another session holds SQLite's write lock (BEGIN IMMEDIATE) between chunks")
def test_next_chunk_sees_what_another_session_committed(db_path: Path, open_store, clock) -> None:  # noqa: ANN001
    store = open_store(db_path)
    bulk = Bulk(store.conn, rules=store.rules, now=clock(), actor="importer")
    bulk.begin()
    cust = bulk.ensure_customer("K1", "Known", "UK")
    bulk.ensure_product("P1", "Thing", 10000, 10)
    bulk.add_order(ref="INV-1", customer=cust, channel=Channel.ONLINE, order_type="standard",
                   received_at=datetime(2026, 1, 1, tzinfo=UTC), goods=[Goods("P1", 4, 10000)], charges=[])
    bulk.commit()
    assert store.conn.execute("SELECT stock FROM products WHERE sku='P1'").fetchone()[0] == 6

    other = connect(db_path)  # another session takes stock and writes an order row in between
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE products SET stock = stock - 5, version = version + 1 WHERE sku = 'P1'")
    other.execute("""INSERT INTO orders (id, number, customer_id, channel, type, state, priority, priority_level,
                     priority_source, tier_rank, received_at, due_at, created_by, created_at, updated_at)
                     VALUES (2, 'SO-000002', 1, 'phone', 'standard', 'queued', 'P3', 3, 'x', 2, 0, 0, 'bob', 0, 0)""")
    other.execute("INSERT INTO events (at, actor, entity, action, data) VALUES (0, 'bob', 'product', 'adjust', "
                  "'{\"stock\": {\"P1\": -5}}')")
    other.execute("COMMIT")
    other.close()

    bulk.begin()
    state, _ = bulk.add_order(ref="INV-2", customer=cust, channel=Channel.ONLINE, order_type="standard",
                              received_at=datetime(2026, 1, 1, tzinfo=UTC), goods=[Goods("P1", 2, 10000)], charges=[])
    bulk.commit()
    # only 1 left, so the order cannot go straight through; and it did not take id 2
    assert state.value == "on_hold"
    row = store.conn.execute("SELECT id, hold_reason, queue_reason FROM orders WHERE source_ref='INV-2'").fetchone()
    assert row[0] == 3 and row[1] == "stock" and "out of stock" in row[2]
    assert store.conn.execute("SELECT stock FROM products WHERE sku='P1'").fetchone()[0] == 1
    bulk.close()
