"""A TUI session on PostgreSQL in a real terminal (tmux) across a real `pg_ctl` stop and start.

While the server is away every screen says "reconnecting" (the queue, and the order screen over
it); when it is back the session recovers by itself, with no key pressed, and shows a claim another
process made after the restart; and the rep's own next command works.
"""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.helpers import Tmux, wait_for
from tests.pg.test_pg_feed import pg_ctl, server_back  # noqa: F401 - the fixture
from tests.pg_server import PgServer
from tui.widgets.footer import RECONNECTING_NOTICE

pytestmark = pytest.mark.tmux
ORDERQ = Path(sys.executable).parent / "orderq"
RECONNECTING = RECONNECTING_NOTICE.strip("⚠ …")  # "reconnecting to the database"


def _row(screen: str, number: str) -> str:
    return next((ln for ln in screen.splitlines() if number in ln), "")


def test_a_tui_session_says_reconnecting_and_recovers_after_a_restart(pg_demo_url: str, server_back: PgServer,  # noqa: F811
                                                                      pg_cli, tmux: Tmux) -> None:  # noqa: ANN001
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in server_back.env().items())
    tmux.new("rep", f"{env} {shlex.quote(str(ORDERQ))} --db {shlex.quote(pg_demo_url)} tui --user alice",
             cols=120, rows=35)
    tmux.wait_screen("rep", "● live", 30)

    # on the queue: the server goes away, the bar and the footer say so
    pg_ctl(server_back, "stop", "-m", "fast")
    scr = tmux.wait_screen("rep", RECONNECTING, 30)
    assert "● live" not in scr
    pg_ctl(server_back, "start")
    tmux.wait_screen("rep", "● live", 30)
    assert RECONNECTING not in tmux.screen("rep")

    # another process claims after the restart: it shows by itself
    proc = pg_cli(pg_demo_url, "claim", "--user", "bob", "--json")
    assert proc.returncode == 0, proc.stderr
    number = re.search(r'"number": "([^"]+)"', proc.stdout).group(1)
    wait_for(lambda: "bob" in _row(tmux.screen("rep"), number), 30, f"{number} claimed by bob on the queue")

    # on the order screen (the rep's own claim, after the restart: the session's connection is back)
    tmux.send("rep", "c")
    tmux.wait_screen("rep", "Checklist", 30)  # the order screen ("Give back" is in the queue's footer too)
    # stop, then start once the screen said so: a `restart` can be over before a look at the screen
    # sees the notice (it failed 1 run in 5 so)
    pg_ctl(server_back, "stop", "-m", "fast")
    scr = tmux.wait_screen("rep", RECONNECTING, 30)
    assert "Give back" in scr or "Tick" in scr  # still the order screen, saying it
    pg_ctl(server_back, "start")
    wait_for(lambda: RECONNECTING not in tmux.screen("rep"), 30, "the order screen to stop saying reconnecting")
    assert not tmux.dead("rep"), tmux.capture("rep")
    assert "Traceback" not in tmux.capture("rep")
