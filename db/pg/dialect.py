"""PostgreSQL's SQL fragments (see db/dialect.py for what each is)."""
from __future__ import annotations

from typing import Any

from db.dialect import Dialect

#: the transaction-scoped advisory lock of the one session returning lapsed leases at a time
REAPER_LOCK = 0x6F72_6471_0003


class PgDialect(Dialect):
    name = "postgresql"
    # every eligibility filter is inside the subquery this ends; NO KEY: the claim's UPDATE changes
    # no key column, so it must not conflict with the FOR KEY SHARE locks of foreign-key checks
    claim_lock = " FOR NO KEY UPDATE SKIP LOCKED"
    event_seq = "NULL"
    ordered_join = "JOIN"  # PostgreSQL's CROSS JOIN takes no ON; its planner chooses the order

    def columns(self, conn: Any, table: str) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ?", (table,))}

    def tables(self, conn: Any) -> set[str]:
        from db.pg.schema import MIGRATIONS_TABLE

        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                if r[0] != MIGRATIONS_TABLE}

    def checks(self, checks: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """SQLite's checks with PostgreSQL's own integrity step, guard-trigger check and header
        snapshot check in their places (db/pg/check.py), each in a savepoint: a check that fails
        to read aborts only itself, not the rest of the snapshot."""
        from db.pg.check import OVERRIDES, in_savepoint

        return [(name, in_savepoint(OVERRIDES.get(name, fn))) for name, fn in checks]

    def try_reaper_lock(self, conn: Any) -> bool:
        """One reaper at a time (issue 18 §3), as the PostgreSQL queues do it (a leader holding
        `pg_try_advisory_lock`): the first session to find a lapsed lease takes this lock until
        its COMMIT and returns the leases; any other finds it taken and goes on without waiting,
        so lapsed leases never queue every claimer behind one reap. Transaction-scoped: a reaper
        that dies or rolls back lets go, and the next read or claim reaps. Never waited on, so it
        adds no lock-order edge to write_tx's writer lock."""
        return bool(conn.execute("SELECT pg_try_advisory_xact_lock(?)", (REAPER_LOCK,)).fetchone()[0])

    like = "ILIKE"

    def group_concat_distinct(self, expr: str) -> str:
        return f"string_agg(DISTINCT {expr}, ',')"

    def json_text(self, expr: str, key: str) -> str:
        return f"(({expr})::jsonb ->> '{key}')"

    def json_each(self, expr: str, key: str) -> str:
        return f"jsonb_each_text(({expr})::jsonb -> '{key}')"


PG = PgDialect()
