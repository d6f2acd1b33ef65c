"""Fixtures for the wording tests: one small desk on a fixed clock, built through the services."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db.service import Desk
from tests.conftest import FakeClock


@pytest.fixture
def word_db(tmp_path: Path, clock: FakeClock, generated_demo: Callable[..., Path]) -> Path:
    """120 demo orders (seed 5) at the fixed clock, with the demo users: enough for a queue with
    waiting work and a customer hold (the demo desk keeps up with a small day)."""
    return generated_demo(tmp_path / "words.db", orders=120, seed=5, clock=clock)


@pytest.fixture
def desk(word_db: Path, clock: FakeClock) -> Iterator[callable]:
    opened: list[Desk] = []

    def _desk(user: str) -> Desk:
        d = Desk.open(word_db, user, clock=clock)
        opened.append(d)
        return d

    yield _desk
    for d in opened:
        d.store.close()
