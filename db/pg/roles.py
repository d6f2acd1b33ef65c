"""The app's own PostgreSQL role (`orderq init --app-role NAME`), issue 18 §4.

WHY a role of its own: the audit log's triggers refuse UPDATE, DELETE and TRUNCATE, but a table's owner
(or a superuser) can disable triggers or drop the table. The sessions of the app therefore connect as a
role that owns nothing and holds only what commands need: SELECT and INSERT on the event log; SELECT,
INSERT, UPDATE, DELETE on the other tables (never TRUNCATE); the sequences (nextval, and setval after an
import or a copy chose ids); read-only on the migrations table; and CONNECT and TEMPORARY (the importer's
private tables) on the database. So changing or removing history is refused by privilege before any
trigger runs.

Run it as the database's owner after every `orderq init` that migrates (a new table is granted then);
it is idempotent. The role is created with LOGIN and no password: give it one with `ALTER ROLE … PASSWORD`
(or `\\password` in psql) and put it in the sessions' PGPASSFILE.
"""
from __future__ import annotations

import re

from core.errors import ValidationError
from db.pg.connection import PgConnection
from db.pg.schema import MIGRATIONS_TABLE

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: what an app session may never do to the event log, refused by privilege
EVENTS_REFUSED = ("UPDATE", "DELETE", "TRUNCATE")


def check_name(name: str) -> str:
    """A role name orderq creates: lower-case letters, digits and _, so it needs no quoting anywhere."""
    if not _NAME.fullmatch(name) or name.startswith("pg_"):
        raise ValidationError(f"--app-role {name!r}: use lower-case letters, digits and _ (not starting with pg_), "
                              "at most 63", field="app_role")
    return name


def grant_app_role(conn: PgConnection, name: str) -> bool:
    """Create role `name` if missing, and give it exactly the app's rights on this database's tables.
    Returns whether the role was created now. Runs in one transaction: on a refusal nothing changed."""
    from db.connection import write_tx

    check_name(name)
    with write_tx(conn):
        created = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (name,)).fetchone() is None
        if created:
            conn.execute(f"CREATE ROLE {name} LOGIN NOINHERIT")
        db, schema = conn.execute("SELECT current_database(), current_schema()").fetchone()
        conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO {name}')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {name}')
        conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {name}')
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {name}')
        conn.execute(f"REVOKE {', '.join(EVENTS_REFUSED)} ON events FROM {name}")
        conn.execute(f"REVOKE INSERT, UPDATE, DELETE ON {MIGRATIONS_TABLE} FROM {name}")
        conn.execute(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {name}')
    return created
