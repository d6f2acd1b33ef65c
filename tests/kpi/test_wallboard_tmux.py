"""The wallboard in a real terminal (tmux): a new order entered by another process shows up by itself.

It runs `orderq tui --screen wallboard` when the app shell is installed, else the test host
(tests/kpi/wallapp.py), which does what the shell promises the screens.
"""
from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.tmux
ORDERQ = Path(sys.executable).parent / "orderq"


def _tmux(sock: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, timeout=20)


def _queued(text: str) -> int | None:
    m = re.search(r"queued (\d+)", text)
    return int(m.group(1)) if m else None


def test_new_order_shows_on_the_wallboard_in_a_real_terminal(kpi_day) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    path, _ = kpi_day
    if importlib.util.find_spec("cli.tui_cmd") is not None:
        cmd = f"{shlex.quote(str(ORDERQ))} --db {shlex.quote(str(path))} tui --user sam --screen wallboard"
    else:
        cmd = f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m tests.kpi.wallapp {shlex.quote(str(path))} sam"
    sock = f"orderq-kpi-{uuid.uuid4().hex[:8]}"
    try:
        p = _tmux(sock, "new-session", "-d", "-x", "80", "-y", "24", "-s", "wb", f"sh -c {shlex.quote(cmd + '; sleep 60')}")
        assert p.returncode == 0, p.stderr

        def screen() -> str:
            return _tmux(sock, "capture-pane", "-p", "-t", "wb").stdout

        deadline = time.monotonic() + 20
        while _queued(screen()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        before = _queued(screen())
        assert before == 3, screen()
        run_cli("--db", str(path), "order", "new", "--user", "alice", "--customer", "C1", "--channel", "phone",
                "--type", "rush", "--line", "A-1:1", check=True)
        t0 = time.monotonic()
        deadline = t0 + 10
        while _queued(screen()) != before + 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _queued(screen()) == before + 1, screen()
        print(f"wallboard showed the new order {time.monotonic() - t0:.3f} s after the CLI returned")
        assert "BREACH" in screen()  # the breached O0 is listed
    finally:
        _tmux(sock, "kill-server")
