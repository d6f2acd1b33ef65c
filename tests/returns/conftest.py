"""Fixtures for the returns tests: one demo database per session, copied per test, and helpers."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import connect_db, copy_db, run_cli, template_db


@pytest.fixture(scope="session")
def returns_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database (200 orders, 12 returns, seed 3), made once; tests copy it."""
    p = template_db(tmp_path_factory, "returns")
    run_cli("--db", str(p), "demo", "--orders", "200", "--returns", "12", "--seed", "3", check=True)
    return p


@pytest.fixture
def rdb(returns_template: Path, tmp_path: Path) -> Path:
    return copy_db(returns_template, tmp_path / "returns.db")


def shipped_line(path: Path, *, min_left: int = 1, min_amount_cents: int = 0, exclude: tuple[str, ...] = ()) -> dict:
    """A shipped order line with at least `min_left` units still returnable: the first order's cheapest such
    line (a full order by, so both backends pick the same line; by the order's id alone, SQLite took the
    line its index gave and PostgreSQL another, whose refund needed a supervisor's approval)."""
    c = connect_db(path)
    c.row_factory = sqlite3.Row
    try:
        r = c.execute(
            f"""SELECT o.number, o.customer_id, l.sku, l.qty, l.qty_returned, l.amount_cents, l.line_no
               FROM order_lines l JOIN orders o ON o.id = l.order_id
               WHERE o.state IN ('shipped','closed') AND l.qty - l.qty_returned >= ? AND l.amount_cents >= ?
                 AND o.number NOT IN ({','.join('?' * len(exclude)) or "''"})
                 AND (SELECT COUNT(*) FROM order_lines x WHERE x.order_id = o.id AND x.sku = l.sku) = 1
               ORDER BY o.id, l.amount_cents, l.line_no LIMIT 1""", (min_left, min_amount_cents, *exclude)).fetchone()
        assert r is not None, "the demo has no suitable shipped line"
        return dict(r)
    finally:
        c.close()


@pytest.fixture
def clock():  # noqa: ANN201 - overrides the shared FakeClock: start at the real now, after the demo's shipments
    from datetime import UTC, datetime

    from tests.conftest import FakeClock

    return FakeClock(datetime.now(UTC).replace(microsecond=0))
