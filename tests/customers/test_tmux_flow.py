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
from tests.tui_order.test_tmux import tmux, wait_for

pytestmark = pytest.mark.tmux


def _start(session: str, *args: str) -> None:
    cmd = f"cd {REPO} && env -u COLUMNS -u LINES {sys.executable} -m tests.tui_order.run_host {' '.join(args)}"
    tmux("new-session", "-d", "-s", session, "-x", "130", "-y", "40", cmd)


def test_phone_order_second_ship_to_po_release_pick_ticket(demo_db, cli) -> None:
    add_addresses(demo_db)
    entry, work = f"entry-{uuid.uuid4().hex[:8]}", f"work-{uuid.uuid4().hex[:8]}"
    try:
        _start(entry, str(demo_db), "alice", "entry")
        wait_for(entry, "New order")

        def send(session: str, *k: str) -> None:
            tmux("send-keys", "-t", session, *k)

        send(entry, "6", "Enter")
        wait_for(entry, "1 of 2: Main warehouse")
        send(entry, "F4")
        wait_for(entry, "2 of 2  ·")
        send(entry, "Down", "Enter")
        wait_for(entry, "2 of 2: Dock 9")
        send(entry, "Enter", "PO-DONE-1", "Enter", "BEV-0001", "Enter", "1", "Enter", "Enter", "Enter")
        pane = wait_for(entry, "created for C00006")
        number = re.search(r"(SO-\d+) created for", pane).group(1)  # the form also lists earlier orders
        assert "Dock 9" in pane and "PO PO-DONE-1" in pane

        _start(work, str(demo_db), "alice", "order", number)
        wait_for(work, "Not claimed")
        pane = wait_for(work, "→ Dock 9, 9 Dock Rd")  # under "confirm ship-to"
        assert "Ship to Dock 9, 9 Dock Rd, Gate B, 07101 Newark, NJ, USA" in pane and "PO PO-DONE-1" in pane
        send(work, "c")
        wait_for(work, "Claimed by you")
        send(work, "1", "2", "3")
        wait_for(work, "Ready to release")
        send(work, "r")
        wait_for(work, "RELEASED")
    finally:
        tmux("kill-server")
    shown = json.loads(cli("--db", str(demo_db), "order", "show", number, "--json", check=True).stdout)
    assert shown["state"] == "released" and shown["po_number"] == "PO-DONE-1" and shown["ship_to"]["name"] == "Dock 9"
    pick = cli("--db", str(demo_db), "order", "pick-ticket", number, check=True).stdout
    assert "Dock 9" in pick and "9 Dock Rd" in pick and "07101 Newark, NJ" in pick
