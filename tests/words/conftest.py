"""Fixtures for the wording tests: one small desk on a fixed clock, built through the services."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db.demo import generate
from db.service import Desk
from db.store import Store
from tests.conftest import FakeClock


@pytest.fixture
def word_db(tmp_path: Path, clock: FakeClock) -> Path:
    """30 demo orders (seed 5) at the fixed clock, with the demo users."""
    p = tmp_path / "words.db"
    store = Store.open(p, create=True, clock=clock)
    try:
        generate(store, orders=30, seed=5)
    finally:
        store.close()
    return p


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
