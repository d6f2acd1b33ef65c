"""PostgreSQL's SQL fragments (see db/dialect.py for what each is)."""
from __future__ import annotations

from typing import Any

from db.dialect import Dialect

#: the advisory lock that serialises appenders to the event log (the hash chain's head)
EVENT_HEAD_LOCK = 0x6F72_6471_0002


class PgDialect(Dialect):
    name = "postgresql"
    # every eligibility filter is inside the subquery this ends; NO KEY: the claim's UPDATE changes
    # no key column, so it must not conflict with the FOR KEY SHARE locks of foreign-key checks
    claim_lock = " FOR NO KEY UPDATE SKIP LOCKED"
    event_seq = "NULL"
    ordered_join = "JOIN"  # PostgreSQL's CROSS JOIN takes no ON; its planner chooses the order

    def lock_event_head(self, conn: Any) -> None:
        """Take the event log's transaction-scoped advisory lock before reading its head.

        WHY: event ids are assigned by the writer (head id + 1; the hash chain covers the id), so two
        transactions must not read the same head; and a reader of `events --since CURSOR` (or the
        change feed) must never see id N+1 committed while id N is still to come. Holding this lock
        from the head read to COMMIT makes appenders take ids one transaction at a time, in commit
        order: when a reader sees an id, every lower id is already committed, so "id > cursor"
        never skips an event (serialised id assignment, the remedy of issue 18 §4). It is a separate
        statement because at READ COMMITTED each statement takes its snapshot when it starts: the
        head read after the lock sees the previous holder's commit. The claim's row locks (SKIP
        LOCKED) are taken in the same transaction, so claims still never wait on each other's rows.
        """
        conn.execute("SELECT pg_advisory_xact_lock(?)", (EVENT_HEAD_LOCK,))

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
        snapshot check in their places (db/pg/check.py)."""
        from db.pg.check import OVERRIDES

        return [(name, OVERRIDES.get(name, fn)) for name, fn in checks]

    def json_text(self, expr: str, key: str) -> str:
        return f"(({expr})::jsonb ->> '{key}')"

    def json_each(self, expr: str, key: str) -> str:
        return f"jsonb_each_text(({expr})::jsonb -> '{key}')"


PG = PgDialect()
