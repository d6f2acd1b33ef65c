"""Presence is honest (issue 14): a session killed without cleanup (SIGKILL, a host crash of its
process) stops counting as online at once, not after the heartbeat's 6 minutes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from db.service import Desk


@pytest.mark.sqlite_only("a session's pid is checked where every session runs on the database's host (SQLite); on PostgreSQL sessions may run on other hosts and the heartbeat alone decides (db/service/sessions.py still_running)")
def test_a_killed_session_is_not_online_and_not_on_the_wallboard(demo_db: Path) -> None:
    rep = Desk.open(demo_db, "alice")
    sup = Desk.open(demo_db, "sam")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # the session's process
    try:
        sid = rep.sessions.start("queue", pid=proc.pid)
        assert any(s["id"] == sid for s in sup.sessions.online())
        assert any(o["user"] == "alice" for o in sup.kpi.wallboard().online)
        proc.kill()
        proc.wait(timeout=10)
        # no beat, no end(): only the process is gone
        assert not any(s["id"] == sid for s in sup.sessions.online())
        assert not any(o["user"] == "alice" for o in sup.kpi.wallboard().online)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rep.store.close()
        sup.store.close()
