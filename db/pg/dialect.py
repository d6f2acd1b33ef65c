"""PostgreSQL's SQL fragments (see db/dialect.py for what each is)."""
from __future__ import annotations

from typing import Any

from db.dialect import Dialect

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

    like = "ILIKE"

    def group_concat_distinct(self, expr: str) -> str:
        return f"string_agg(DISTINCT {expr}, ',')"

    def json_text(self, expr: str, key: str) -> str:
        return f"(({expr})::jsonb ->> '{key}')"

    def json_each(self, expr: str, key: str) -> str:
        return f"jsonb_each_text(({expr})::jsonb -> '{key}')"


PG = PgDialect()
