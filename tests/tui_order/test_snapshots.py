"""SVG snapshots of the order and entry screens (fixed clock, seeded demo data).

Update after a deliberate visual change with `pytest tests/tui_order/test_snapshots.py --snapshot-update`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from db.demo import generate
from db.service import Desk
from db.service.orders import LineInput
from db.store import Store
from tests.conftest import FakeClock
from tests.tui_host import HostApp
from tui.screens.entry import EntryScreen
from tui.screens.order import OrderScreen

SIZE = (120, 36)


@pytest.fixture
def fixed_desk(tmp_path: Path):
    clock = FakeClock()
    store = Store.open(tmp_path / "snap.db", create=True, clock=clock)
    generate(store, orders=30, seed=5)
    desk = Desk.for_user(store, "alice")
    order = desk.orders.create(customer="C00003", channel="phone", type="rush",
                               lines=[LineInput("BEV-0001", "2"), LineInput("HOM-0022", "5", "10")])
    clock.advance(minutes=20)
    yield desk, order.number
    store.close()


def test_order_screen_snapshot(snap_compare, fixed_desk) -> None:
    desk, number = fixed_desk
    app = HostApp(desk, lambda d: OrderScreen(d, number, None))
    app.notify = lambda *a, **k: None  # toasts time out on the wall clock: keep them out of the picture
    assert snap_compare(app, terminal_size=SIZE, press=["c", "1", "l"])


def test_entry_screen_snapshot(snap_compare, fixed_desk) -> None:
    desk, _ = fixed_desk
    app = HostApp(desk, EntryScreen)
    keys = [*"C00002", "enter", "enter", "enter", *"BEV-0005", "enter", "9", "enter", "enter", *"hom-0022", "enter", "0"]
    assert snap_compare(app, terminal_size=SIZE, press=keys)
