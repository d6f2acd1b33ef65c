"""Fixtures for the queue screen: a deterministic demo desk on a fixed clock, and the app around it."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from db.service import Desk
from tests.conftest import FakeClock

OPEN = ("queued", "in_progress", "on_hold")
NOW_ISO = "2026-11-26T09:00:00Z"


@pytest.fixture
def queue_db(tmp_path: Path, clock: FakeClock, generated_demo: Callable[..., Path]) -> Path:
    """300 demo orders generated at the fixed clock (seed 1): the same rows on every run."""
    return generated_demo(tmp_path / "queue.db", orders=300, seed=1, clock=clock)


@pytest.fixture
def make_app(clock: FakeClock) -> Callable[..., object]:
    from tui.app import OrderqApp

    desks: list[Desk] = []

    def _make(path: Path, user: str = "alice", *, feed: bool = False, keys_file: bool = False,
              **kw) -> OrderqApp:  # noqa: ANN003
        """keys_file: read $ORDERQ_KEYS like a real session; otherwise no keymap (the user's own file
        must not leak into tests)."""
        desk = Desk.open(path, user, clock=clock)
        desks.append(desk)
        return OrderqApp(desk, feed=feed, keymap=None if keys_file else {}, **kw)

    yield _make
    for d in desks:
        d.store.close()


def visible_rows(app) -> list[str]:  # noqa: ANN001
    from tui.screens.queue import QueueView

    view = app.screen.query_one(QueueView)
    return [view.render_line(y).text for y in range(view.size.height)]


async def run_orderq(*args: str) -> tuple[int, str, str]:
    """The real CLI in a second OS process, awaited without blocking the app's loop."""
    import os
    import sys

    exe = Path(sys.executable).parent / "orderq"
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")}
    proc = await asyncio.create_subprocess_exec(str(exe), *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()
