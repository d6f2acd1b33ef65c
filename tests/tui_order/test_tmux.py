"""Real terminal: order entry driven through tmux with send-keys alone, checked with the CLI."""
from __future__ import annotations

import json
import re
import sys
import uuid

import pytest

from tests.conftest import REPO
from tests.helpers import Tmux

pytestmark = pytest.mark.tmux


def test_phone_order_in_a_real_terminal(desk_db, cli, tmux: Tmux) -> None:  # noqa: ANN001
    session = f"tuiorder-{uuid.uuid4().hex[:8]}"
    # COLUMNS/LINES from the test run would pin the app to 80x24: the pane decides its size
    cmd = f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m tests.tui_order.run_host {desk_db} alice entry"
    tmux.new(session, cmd, cols=120, rows=36)
    try:
        tmux.wait_screen(session, "New order")
        tmux.send(session, "C00002", "Enter")
        tmux.wait_screen(session, "available 2,000.00")
        tmux.send(session, "Enter", "Enter")  # the default ship-to, no PO: on to the lines
        tmux.send(session, "F4")  # the SKU prompt list, as a green-screen rep expects
        tmux.wait_screen(session, "of 120")
        tmux.send(session, "tea 0005")
        tmux.wait_screen(session, "1 of 120")
        tmux.send(session, "Enter")  # keys at a person's pace: each after the screen answered
        tmux.wait_screen(session, "Green tea tin · @")
        tmux.send(session, "10", "Enter")
        tmux.wait_screen(session, "2,499.90")
        tmux.send(session, "Enter")
        tmux.wait_screen(session, "it will go on a credit hold")
        tmux.send(session, "C-s")
        pane = tmux.wait_screen(session, "ON HOLD (credit)")
        number = re.search(r"(SO-\d+) created for", pane).group(1)  # the form also lists earlier orders
    finally:
        tmux.close()
    shown = json.loads(cli("--db", str(desk_db), "order", "show", number, "--json", check=True).stdout)
    assert shown["state"] == "on_hold" and shown["hold_reason"] == "credit" and shown["channel"] == "phone"
    assert [(ln["sku"], ln["qty"]) for ln in shown["lines"]] == [("BEV-0005", 10)]
