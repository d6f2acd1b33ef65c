"""Who is connected right now: one `sessions` row per running TUI session.

Presence, not domain state: rows come and go with sessions, carry no version and raise no
events (a screen change must not wake every other session's change feed). The SSH server
writes the row when it starts a session process and deletes it when that process ends; the
app updates `screen` when its active screen changes (`ORDERQ_SESSION_ID` in its environment
names the row), which is how the server knows a wallboard is exempt from the idle timeout.
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime

from db.connection import write_tx
from db.convert import ts

#: the environment variable that names a session process's own row
SESSION_ENV = "ORDERQ_SESSION_ID"


def start(conn: sqlite3.Connection, *, user: str, pid: int, host: str | None, screen: str | None,
          now: datetime) -> int:
    with write_tx(conn) as c:
        cur = c.execute(
            "INSERT INTO sessions (user, pid, host, screen, started_at, seen_at) VALUES (?,?,?,?,?,?)",
            (user, pid, host, screen, ts(now), ts(now)),
        )
    return int(cur.lastrowid or 0)


def set_pid(conn: sqlite3.Connection, session_id: int, pid: int) -> None:
    with write_tx(conn) as c:
        c.execute("UPDATE sessions SET pid = ? WHERE id = ?", (pid, session_id))


def set_screen(conn: sqlite3.Connection, session_id: int, screen: str, now: datetime) -> None:
    """Called by the app when its active screen changes."""
    with write_tx(conn) as c:
        c.execute("UPDATE sessions SET screen = ?, seen_at = ? WHERE id = ?", (screen, ts(now), session_id))


def screens(conn: sqlite3.Connection, session_ids: list[int]) -> dict[int, str | None]:
    if not session_ids:
        return {}
    marks = ",".join("?" * len(session_ids))
    rows = conn.execute(f"SELECT id, screen FROM sessions WHERE id IN ({marks})", session_ids).fetchall()
    return {r["id"]: r["screen"] for r in rows}


def end(conn: sqlite3.Connection, session_id: int) -> None:
    with write_tx(conn) as c:
        c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_dead(conn: sqlite3.Connection) -> int:
    """Drop rows whose process is gone (a server that was SIGKILLed left them). Local pids only:
    the database lives on a local disk (WAL), so every session runs on this host."""
    rows = conn.execute("SELECT id, pid FROM sessions").fetchall()
    dead = [r["id"] for r in rows if not _alive(r["pid"])]
    if dead:
        with write_tx(conn) as c:
            c.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in dead])
    return len(dead)


def list_live(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT * FROM sessions ORDER BY started_at").fetchall()
    return [dict(r) for r in rows]
