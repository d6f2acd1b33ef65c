"""Fixtures for the proving tests: a database fingerprint, so a refusal can be shown to write nothing."""
from __future__ import annotations

import hashlib
from pathlib import Path

from db import dialect
from tests.conftest import connect_db


def fingerprint(db: Path) -> str:
    """A hash of every row of every table, except the audit log's own record of refusals.

    A refused permission is logged as an event by design (SPEC §2: "it is logged"); anything
    else a refusal changed would show here.
    """
    conn = connect_db(db)
    try:
        h = hashlib.sha256()
        for t in sorted(dialect.of(conn).tables(conn)):
            where = " WHERE NOT (entity = 'permission' AND action = 'refused')" if t == "events" else ""
            h.update(t.encode())
            for r in sorted(repr(tuple(r)) for r in conn.execute(f"SELECT * FROM {t}{where}")):
                h.update(r.encode())
        return h.hexdigest()
    finally:
        conn.close()
