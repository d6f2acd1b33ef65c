"""The schema, as sqlite-utils Migrations: the registry, the one ordered list of migrations, and
applying them. The migration bodies live in db.migration_steps, grouped by era; a PostgreSQL store
has its own twins under the same names (db/pg/schema.py).

The whole schema of every feature is laid down by the first migration so features built in
parallel never race for migration order; later changes append new migrations to the list below.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from db.connection import write_tx
from db.migration_steps import desk_growth, event_log, first_schema, partner_channels
from db.migration_steps.first_schema import QUEUE_ORDER, RETURN_QUEUE_ORDER

if TYPE_CHECKING:
    from sqlite_utils import Migrations

__all__ = ["MIGRATION_SET", "QUEUE_ORDER", "RETURN_QUEUE_ORDER", "is_initialised", "migrate", "migrations"]

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

#: every migration, in the order databases in the field applied (and recorded) them by name: never
#: reorder or rename one; a new migration goes at the end
STEPS: tuple[Callable[..., Any], ...] = (
    first_schema.m001_schema,
    desk_growth.m200_kpi_indexes,
    desk_growth.m300_history_flag,
    desk_growth.m400_partial_shipments,
    desk_growth.m500_event_hash_chain,
    desk_growth.m600_customer_addresses_contacts_order_header,
    partner_channels.m700_delivery_outbox,
    partner_channels.m710_partners,
    partner_channels.m711_api_idempotency_partner_orders,
    partner_channels.m715_webhooks,
    partner_channels.m765_edi_partner_profiles,
    partner_channels.m900_api_idempotency_in_flight_and_expiry,
    event_log.m910_events_action_index_without_claims,
)
for _step in STEPS:
    migrations()(_step)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations inside one BEGIN IMMEDIATE, so racing `init`s serialise.

    sqlite-utils turns each migration's own transaction into a savepoint when one is open.
    No sqlite-utils plugins run on orderq's connection (`execute_plugins=False`): whatever happens to be
    installed would register its SQL functions on the desk's database, and looking them up read every
    installed package's entry points (importlib.metadata), ≈ 4% of `orderq init`.
    """
    from sqlite_utils import Database

    db = Database(conn, execute_plugins=False)
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
