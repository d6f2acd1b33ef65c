"""PostgreSQL's SQL fragments (see db/dialect.py for what each is)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

    def claim_with_event(self, claim_sql: str) -> str:
        """The claim and its event in one statement (db.pg.claim says why): the claimed row, its event
        appended by the same statement, and the event's id and hash beside the row; nothing when
        nothing was claimed. The event's parts are the named parameters `ev_*` (db.claims.plan),
        its time and actor the claim's own `:now` and `:user` (the same values: one parameter less
        each to write into the message); the hash is db.event_chain.chain_hash of them, the row's
        id and number and the head's hash.

        Plain SQL in the PREPAREd claim statement rather than a plpgsql function (it was
        orderq_append_event): planned once per session with the claim, no function call and no SPI
        queries of its own. With the user's check moved into the claim (db.claims `_guarded`), ~55 us
        of server CPU less per claim, of ~560 (bench/bench_pg_claim.py).
        The head is read in the statement's snapshot, taken after the writer lock (write_tx, or the
        lock statement before it in the claim's message), so it is the real last event."""
        return (f"WITH claimed AS ({claim_sql}),\n"
                "head AS (SELECT id, hash FROM events ORDER BY id DESC LIMIT 1),\n"
                "new_event AS (SELECT COALESCE((SELECT id FROM head), 0) + 1 AS id,"
                " COALESCE((SELECT hash FROM head), repeat('0', 64)) AS prev),\n"
                "appended AS (INSERT INTO events (id, at, actor, entity, entity_id, ref, action, data, prev_hash, hash)"
                " SELECT new_event.id, :now, :user, :ev_entity, claimed.id, claimed.number, :ev_action, :ev_data,"
                " new_event.prev, encode(sha256(convert_to(new_event.id::text || :ev_fixed_head || claimed.id::text || '|'"
                " || length(claimed.number)::text || ':' || claimed.number || :ev_fixed_tail || new_event.prev, 'UTF8')),"
                " 'hex') FROM claimed, new_event RETURNING id, hash)\n"
                "SELECT claimed.*, appended.id AS event_id, appended.hash AS event_hash FROM claimed, appended"
                # the whole claim sent at once: its one NOTIFY (db.pg.link says why one), after the insert
                " WHERE CASE WHEN :ev_notify <> 0 THEN pg_notify('orderq_events', appended.id::text) IS NOT NULL"
                " ELSE true END")

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

    def grant_app_role(self, conn: Any, name: str) -> bool:
        from db.pg.roles import grant_app_role

        return grant_app_role(conn, name)

    temp = "pg_temp."
    clustered = ""  # a heap: the primary key is a separate index, as for every PostgreSQL table
    double = "DOUBLE PRECISION"

    def temp_index(self, name: str, table: str, columns: str) -> str:
        return f"CREATE INDEX {name} ON pg_temp.{table}({columns})"  # an index on a temp table is temp too

    def invoice_seq(self, conn: Any, expr: str) -> str:
        # core.intake.invoice_seq in SQL: the ref's digits as a number, 0 when it has none
        return f"COALESCE(NULLIF(regexp_replace({expr}, '[^0-9]', '', 'g'), '')::numeric, 0)"

    def begin_bulk(self, conn: Any) -> None:
        # the same start as every command's write transaction (db.pg.connection.write_tx says why)
        from db.pg.connection import WRITE_LOCK

        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))

    def data_version(self, conn: Any) -> object:
        """The server's snapshot as text (xmin:xmax:in-progress ids): it is unchanged exactly when no
        transaction that writes has started or ended since, anywhere on the server. So an equal token
        means nobody else wrote; another database's writer only makes the import re-read its caches."""
        return conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0]

    def ids_assigned(self, conn: Any, tables: tuple[str, ...]) -> None:
        """Move each table's identity sequence past its largest id, inside the import's transaction, so
        a command's plain INSERT after it (which takes the sequence's next value) never collides."""
        from db.pg.schema import bump_sequences

        bump_sequences(conn, tables)

    @contextmanager
    def bulk_cache(self, conn: Any) -> Iterator[None]:
        yield  # shared_buffers is the server's; a session has no page cache of its own to grow

    def small_cache(self, conn: Any, kib: int) -> None:
        """Nothing to keep small: the server holds the pages (shared_buffers)."""


PG = PgDialect()
