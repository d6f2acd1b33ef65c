"""Done-when, in a real terminal with the keyboard alone: a phone order for a customer with two addresses,
the second ship-to picked with F4, a PO; the checklist ticked (it shows the address it confirms) and the order
released; the pick ticket then names that address."""
from __future__ import annotations

import json
import re
import sys
import uuid

import pytest

from tests.conftest import REPO
from tests.customers.conftest import add_addresses
from tests.helpers import Tmux

pytestmark = pytest.mark.tmux


def _start(tmux: Tmux, session: str, *args: str) -> None:
    cmd = f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m tests.tui_order.run_host {' '.join(args)}"
    tmux.new(session, cmd, cols=130, rows=40)


def test_phone_order_second_ship_to_po_release_pick_ticket(demo_db, cli, tmux: Tmux) -> None:  # noqa: ANN001
    add_addresses(demo_db)
    entry, work = f"entry-{uuid.uuid4().hex[:8]}", f"work-{uuid.uuid4().hex[:8]}"
    try:
        _start(tmux, entry, str(demo_db), "alice", "entry")
        tmux.wait_screen(entry, "New order")
        tmux.send(entry, "6", "Enter")
        tmux.wait_screen(entry, "1 of 2: Main warehouse")
        tmux.send(entry, "F4")
        tmux.wait_screen(entry, "2 of 2  ·")
        tmux.send(entry, "Down", "Enter")
        tmux.wait_screen(entry, "2 of 2: Dock 9")
        tmux.send(entry, "Enter", "PO-DONE-1", "Enter", "BEV-0001", "Enter", "1", "Enter", "Enter", "Enter")
        pane = tmux.wait_screen(entry, "created for C00006")
        number = re.search(r"(SO-\d+) created for", pane).group(1)  # the form also lists earlier orders
        assert "Dock 9" in pane and "PO PO-DONE-1" in pane

        _start(tmux, work, str(demo_db), "alice", "order", number)
        tmux.wait_screen(work, "Not claimed")
        pane = tmux.wait_screen(work, "→ Dock 9, 9 Dock Rd")  # under "confirm ship-to"
        assert "Ship to Dock 9, 9 Dock Rd, Gate B, 07101 Newark, NJ, USA" in pane and "PO PO-DONE-1" in pane
        tmux.send(work, "c")
        tmux.wait_screen(work, "Claimed by you")
        tmux.send(work, "1", "2", "3")
        tmux.wait_screen(work, "Ready to release")
        tmux.send(work, "r")
        tmux.wait_screen(work, " released ")  # the header names the state in words
    finally:
        tmux.close()
    shown = json.loads(cli("--db", str(demo_db), "order", "show", number, "--json", check=True).stdout)
    assert shown["state"] == "released" and shown["po_number"] == "PO-DONE-1" and shown["ship_to"]["name"] == "Dock 9"
    pick = cli("--db", str(demo_db), "order", "pick-ticket", number, check=True).stdout
    assert "Dock 9" in pick and "9 Dock Rd" in pick and "07101 Newark, NJ" in pick
