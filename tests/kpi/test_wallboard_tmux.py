"""The wallboard in a real terminal (tmux): a new order entered by another process shows up by itself.

It runs `orderq tui --screen wallboard` when the app shell is installed, else the test host
(tests/kpi/wallapp.py), which does what the shell promises the screens.
"""
from __future__ import annotations

import importlib.util
import re
import shlex
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.helpers import Tmux, wait_for

pytestmark = pytest.mark.tmux
ORDERQ = Path(sys.executable).parent / "orderq"


def _queued(text: str) -> int | None:
    m = re.search(r"queued (\d+)", text)
    return int(m.group(1)) if m else None


def test_new_order_shows_on_the_wallboard_in_a_real_terminal(kpi_day, tmux: Tmux) -> None:  # noqa: ANN001
    path, _ = kpi_day
    if importlib.util.find_spec("cli.tui_cmd") is not None:
        cmd = f"{shlex.quote(str(ORDERQ))} --db {shlex.quote(str(path))} tui --user sam --screen wallboard"
    else:
        cmd = f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m tests.kpi.wallapp {shlex.quote(str(path))} sam"
    try:
        tmux.new("wb", cmd, cols=80, rows=24)

        def screen() -> str:
            return tmux.screen("wb")

        wait_for(lambda: _queued(screen()) is not None, 20, "the board's first figures", fail=False)
        before = _queued(screen())
        assert before == 3, screen()
        run_cli("--db", str(path), "order", "new", "--user", "alice", "--customer", "C1", "--channel", "phone",
                "--type", "rush", "--line", "A-1:1", check=True)
        t0 = time.monotonic()
        wait_for(lambda: _queued(screen()) == before + 1, 10, step=0.02, fail=False)
        assert _queued(screen()) == before + 1, screen()
        print(f"wallboard showed the new order {time.monotonic() - t0:.3f} s after the CLI returned")
        assert "BREACH" in screen()  # the breached O0 is listed
    finally:
        tmux.close()
