"""Fixtures for the order screens: a demo database and a desk for a named user."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import connect_db, copy_db, run_cli, template_db


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database per test session (60 orders, seed 3); tests copy it."""
    p = template_db(tmp_path_factory, "tui_order")
    run_cli("--db", str(p), "demo", "--orders", "60", "--seed", "3", check=True)
    return p


@pytest.fixture
def desk_db(demo_template: Path, tmp_path: Path) -> Path:
    return copy_db(demo_template, tmp_path / "desk.db")


def count_orders(path: Path) -> int:
    
    conn = connect_db(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def orders_in():
    return count_orders
