"""Real terminal: order entry driven through tmux with send-keys alone, checked with the CLI."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.tmux


SOCKET = f"orderq-tui-order-{uuid.uuid4().hex[:8]}"  # our own tmux server: other sessions' options never apply


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True).stdout


def wait_for(session: str, text: str, timeout: float = 15.0) -> str:
    end = time.monotonic() + timeout
    while True:
        pane = tmux("capture-pane", "-p", "-t", session)
        if text in pane:
            return pane
        if time.monotonic() > end:
            raise AssertionError(f"{text!r} never appeared:\n{pane}")
        time.sleep(0.05)


def test_phone_order_in_a_real_terminal(desk_db, cli) -> None:
    session = f"tuiorder-{uuid.uuid4().hex[:8]}"
    # COLUMNS/LINES from the test run would pin the app to 80x24: the pane decides its size
    cmd = f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m tests.tui_order.run_host {desk_db} alice entry"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", cmd)
    try:
        wait_for(session, "New order")
        tmux("send-keys", "-t", session, "C00002", "Enter")
        wait_for(session, "available 2,000.00")
        tmux("send-keys", "-t", session, "Enter", "Enter")  # the default ship-to, no PO: on to the lines
        tmux("send-keys", "-t", session, "F4")  # the SKU prompt list, as a green-screen rep expects
        wait_for(session, "of 120")
        tmux("send-keys", "-t", session, "tea 0005")
        wait_for(session, "1 of 120")
        tmux("send-keys", "-t", session, "Enter")  # keys at a person's pace: each after the screen answered
        wait_for(session, "Green tea tin · @")
        tmux("send-keys", "-t", session, "10", "Enter")
        wait_for(session, "2,499.90")
        tmux("send-keys", "-t", session, "Enter")
        wait_for(session, "it will go on a credit hold")
        tmux("send-keys", "-t", session, "C-s")
        pane = wait_for(session, "ON HOLD (credit)")
        number = re.search(r"(SO-\d+) created for", pane).group(1)  # the form also lists earlier orders
    finally:
        tmux("kill-server")
    shown = json.loads(cli("--db", str(desk_db), "order", "show", number, "--json", check=True).stdout)
    assert shown["state"] == "on_hold" and shown["hold_reason"] == "credit" and shown["channel"] == "phone"
    assert [(ln["sku"], ln["qty"]) for ln in shown["lines"]] == [("BEV-0005", 10)]
