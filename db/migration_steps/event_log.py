"""Migrations m910 on: the event log's own b-trees, reshaped for the claim's write lock.

Every claim writes one event inside SQLite's write lock, and with 16 claimers on one file each
BEGIN finds the page cache dropped (another process wrote), so every b-tree the event enters is
pages read and written again per claim (bench/bench_claim.py measures it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

#: what ix_events_action_at holds (m910), as SQL: every event but a claim. A read of the log by
#: action ANDs this in (`events.by_action`), since SQLite uses a partial index only for a query
#: whose WHERE carries the index's own term.
ACTION_INDEXED = "action <> 'claim'"


def m910_events_action_index_without_claims(db: Database) -> None:
    """ix_events_action_at leaves claims out. Its readers (the KPIs: hold, unhold, release; `check`:
    ship) never look claims up by action: a claim is found by its order (ix_events_entity, as the
    KPI's claim → release pairs and an item's history do). A claim is the most frequent event and
    the one written under contention; out of this index it enters one b-tree fewer, x0.91-0.94 CPU
    inside the lock per claim (bench/bench_claim.py). Same name, so nothing else changes."""
    db.execute("DROP INDEX IF EXISTS ix_events_action_at")
    db.execute(f"CREATE INDEX ix_events_action_at ON events(action, at) WHERE {ACTION_INDEXED}")
