"""The caps themselves (tui.ssh_limits), without a server: what a window and a flood come to."""
from __future__ import annotations

import struct

from tui.ssh_limits import MAX_COLS, MAX_ROWS, LoginGate, cap_term_size, winsize


def test_a_window_is_capped_and_its_cells_keep_their_shape() -> None:
    assert cap_term_size(120, 40, 960, 640) == (120, 40, 960, 640)
    assert cap_term_size(10000, 10000, 80000, 160000) == (MAX_COLS, MAX_ROWS, 4000, 3200)
    assert cap_term_size(2**32 - 1, 2**32 - 1, 2**32 - 1, 0)[:2] == (MAX_COLS, MAX_ROWS)
    rows, cols, pxw, pxh = struct.unpack("HHHH", winsize((70000, 70000, 70000, 70000)))
    assert (cols, rows) == (MAX_COLS, MAX_ROWS) and 0 <= pxw <= 0xFFFF and 0 <= pxh <= 0xFFFF


def test_the_gate_counts_per_address_and_in_total_and_a_flood_logs_one_line_a_second() -> None:
    gate = LoginGate(total=3, per_address=2)
    assert gate.admit("10.0.0.1") is None and gate.admit("10.0.0.1") is None
    assert gate.admit("10.0.0.1") == "2 connections from it are still logging in"
    assert gate.admit("10.0.0.2") is None
    assert gate.admit("10.0.0.3") == "3 connections are still logging in"
    gate.release("10.0.0.1")
    assert gate.admit("10.0.0.3") is None
    assert [gate.log_refusal("10.0.0.9", now=t) for t in (100.0, 100.2, 100.5, 101.1)] == [0, None, None, 2]
    assert gate.log_refusal("10.0.0.8", now=101.2) == 0  # another address has its own line
