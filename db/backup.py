"""`orderq backup`: a consistent online copy that is checked before it takes the destination's name.

The copy is written to a temporary file beside the destination and renamed only once it is complete
and passes quick_check, so a failed backup (a full disk, a damaged source) leaves no 0-byte file
or `-journal` behind to block the retry, and a file named as the backup is always a good one.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from db.connection import StoreError, reason
from db.outputs import fsync

#: what SQLite may leave beside a database file
_SIDE_FILES = ("", "-journal", "-wal", "-shm")


def backup(conn: sqlite3.Connection, dest: Path) -> None:
    """Copy the database behind `conn` to `dest`; StoreError if it cannot, with nothing left at `dest`.
    A PostgreSQL database is backed up by PostgreSQL's own tools (pg_dump, or base backups and WAL
    archiving for point-in-time recovery): refused here in one line, before anything is written."""
    if not isinstance(conn, sqlite3.Connection):
        raise StoreError("orderq backup copies a SQLite file; back a PostgreSQL database up with pg_dump "
                         "(or base backups and WAL archiving); nothing was written")
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
    done = False
    try:
        target = sqlite3.connect(tmp, isolation_level=None)
        try:
            target.execute("PRAGMA journal_mode=DELETE")
            # one step, in one read snapshot: WAL writers carry on meanwhile. A stepped backup
            # restarts whenever another process commits, so under steady writes it crawled (4–12 s
            # for 24 MB here) or, on a big busy database, never finished (tests/prove/test_durability.py).
            conn.backup(target, pages=-1)
            # the backup API copies pages as they are, damaged ones too: check the copy (sessions go on).
            # quick_check reads every page and finds damaged ones; the full integrity_check also
            # cross-checks each index against its table, ~5× slower (6 s for 80 MB), and is `orderq check`'s job
            found = [r[0] for r in target.execute("PRAGMA quick_check(5)")]
        finally:
            target.close()
        if found != ["ok"]:
            first = " ".join(" ".join(found).split())[:160]  # one line: integrity_check's report spans several
            raise StoreError(f"backup refused: the database is damaged ({first}); run `orderq check`; "
                             f"nothing was written at {dest}")
        fsync(tmp)
        os.replace(tmp, dest)
        done = True
        fsync(dest.parent)
    except (sqlite3.Error, OSError) as e:
        why = f"{e.strerror or e}" if isinstance(e, OSError) else reason(e)
        raise StoreError(f"backup failed: {why}; nothing was written at {dest}") from None
    finally:
        if not done:
            for side in _SIDE_FILES:
                Path(f"{tmp}{side}").unlink(missing_ok=True)
