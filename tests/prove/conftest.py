"""Fixtures for the proving tests: a database fingerprint, so a refusal can be shown to write nothing."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def fingerprint(db: Path) -> str:
    """A hash of every row of every table, except the audit log's own record of refusals.

    A refused permission is logged as an event by design (SPEC §2: "it is logged"); anything
    else a refusal changed would show here.
    """
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for t in tables:
            where = " WHERE NOT (entity = 'permission' AND action = 'refused')" if t == "events" else ""
            h.update(t.encode())
            for r in conn.execute(f"SELECT * FROM {t}{where} ORDER BY rowid"):
                h.update(repr(tuple(r)).encode())
        return h.hexdigest()
    finally:
        conn.close()
