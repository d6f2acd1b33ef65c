"""SVG snapshots of the queue screen on a fixed clock and a seeded demo (stable across runs).

Update after an intended change: `.venv/bin/pytest tests/tui_queue/test_snapshots.py --snapshot-update`.
"""
from __future__ import annotations

from pathlib import Path

SIZE = (120, 35)


def test_queue_default(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db), terminal_size=SIZE)


def test_queue_why_panel_after_moving(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db), press=["down", "down", "down", "down"], terminal_size=SIZE)


def test_queue_green_screen_with_search(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db, theme="green-screen"), press=["slash", *"Granite", "enter"], terminal_size=SIZE)


def test_queue_light_help(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db, theme="orderq-light"), press=["f1"], terminal_size=SIZE)
