"""SVG snapshots of the queue screen on a fixed clock and a seeded demo (stable across runs).

Update after an intended change: `.venv/bin/pytest tests/tui_queue/test_snapshots.py --snapshot-update`.
"""
from __future__ import annotations

from pathlib import Path

from tests.helpers import until

SIZE = (120, 35)


def test_queue_default(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db), terminal_size=SIZE)


def test_queue_why_panel_after_moving(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db), press=["down", "down", "down", "down"], terminal_size=SIZE)


def test_queue_green_screen_with_search(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    app = make_app(queue_db, theme="green-screen")

    async def searched(pilot) -> None:  # noqa: ANN001
        for key in ["slash", *"Granite", "enter"]:
            await pilot.press(key)
        # the bar follows the search once the view has reloaded: under load (-n 2 at load 10) the
        # picture was taken while it still said the debounced “Gra”
        await until(pilot, lambda: "search “Granite”" in str(app.screen.query_one("#qbar").render()),
                    what="the bar to show the search")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=searched)


def test_queue_light_help(queue_db: Path, make_app, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(queue_db, theme="orderq-light"), press=["f1"], terminal_size=SIZE)
