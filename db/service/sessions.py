"""Who is signed in right now: one `sessions` row per open TUI session, with a heartbeat.

The wallboard's "reps online" reads `online()`. Starting and ending a session are events (who
came and went is audit); the heartbeat only moves `seen_at` and `screen`, so a busy floor does
not flood the log. A session killed without cleanup stops beating and drops out of `online()`
once `seen_at` is older than STALE_S; `start()` sweeps such rows. On SQLite every session runs on
this machine (the database is a local file), so a row whose process is gone is not online either,
whatever its last beat: presence is honest at once without beating more often (`still_running`).
"""
from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from db import dialect, events
from db.convert import dt, ts
from db.service.context import Context

#: every beat is a commit, and every commit wakes every other session's change feed: at 30 s, 100
#: sessions woke each one 3 times a second for nothing (issue 14). A killed session now drops out
#: of "online" after 6 minutes; sessions that end normally drop out at once (end()).
HEARTBEAT_S = 120.0
STALE_S = 3 * HEARTBEAT_S


def _pid_running(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return True  # nothing to look at: the heartbeat decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process (another user's session): it exists
    return True


def still_running(conn: Any, rows: list[Any]) -> list[Any]:
    """The rows (each with a `pid`) whose session process still runs, when the processes are on
    this machine (SQLite); on PostgreSQL sessions may run on other hosts, and the heartbeat decides."""
    if dialect.of(conn) is not dialect.SQLITE:
        return list(rows)
    return [r for r in rows if _pid_running(r["pid"])]


class SessionService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def start(self, screen: str | None = None, *, pid: int | None = None, host: str | None = None) -> int:
        now = self.ctx.now()
        user = self.ctx.actor.name
        pid = os.getpid() if pid is None else pid
        host = host or os.environ.get("SSH_CONNECTION", "").split(" ")[0] or socket.gethostname()
        with self.ctx.write() as c:
            c.execute("DELETE FROM sessions WHERE seen_at < ?", (ts(now - timedelta(seconds=STALE_S * 10)),))
            cur = c.execute(
                "INSERT INTO sessions (\"user\", pid, host, screen, started_at, seen_at) VALUES (?,?,?,?,?,?)",
                (user, pid, host, screen, ts(now), ts(now)),
            )
            sid = int(cur.lastrowid or 0)
            events.append(c, at=now, actor=user, entity="session", entity_id=sid, ref=user, action="session_started",
                          data={"pid": pid, "host": host, "screen": screen})
        return sid

    def beat(self, session_id: int, screen: str | None = None) -> None:
        now = self.ctx.now()
        with self.ctx.write() as c:
            c.execute("UPDATE sessions SET seen_at = ?, screen = COALESCE(?, screen) WHERE id = ?",
                      (ts(now), screen, session_id))

    def end(self, session_id: int) -> None:
        """Not gated on the user being active: a disabled user's session still closes its row."""
        now = self.ctx.now()
        with self.ctx.store.write() as c:
            cur = c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if cur.rowcount:
                events.append(c, at=now, actor=self.ctx.actor.name, entity="session", entity_id=session_id,
                              ref=self.ctx.actor.name, action="session_ended", data={})

    def online(self) -> list[dict[str, Any]]:
        """Live sessions (seen within STALE_S and, on this machine, still running), newest first:
        user, role, screen, pid, since, seen."""
        since = ts(self.ctx.now() - timedelta(seconds=STALE_S))
        conn = self.ctx.store.conn
        rows = conn.execute(
            """SELECT s.*, u.role FROM sessions s LEFT JOIN users u ON u.name = s.user
               WHERE s.seen_at >= ? ORDER BY s.started_at DESC""",
            (since,),
        ).fetchall()
        rows = still_running(conn, rows)
        return [
            {"id": r["id"], "user": r["user"], "role": r["role"], "screen": r["screen"], "pid": r["pid"],
             "host": r["host"], "started_at": dt(r["started_at"]), "seen_at": dt(r["seen_at"])}
            for r in rows
        ]
