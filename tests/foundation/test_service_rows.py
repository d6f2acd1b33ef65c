"""The order and return services share one copy of their row helpers (issue 12, "Copies in the
services"): a fix to the versioned update or the lapsed-lease reap lands in both queues at once."""
from __future__ import annotations

import ast
from pathlib import Path

from db.service.orders import OrderService
from db.service.returns import ReturnService

REPO = Path(__file__).resolve().parents[2]
SHARED = ("_locked_row", "_update", "_event", "history")


def _definitions(name: str) -> list[str]:
    """Every class in the order and return services' modules that defines a method called `name`
    (KpiService.history, the simulator's arrivals, is another thing)."""
    out = []
    for p in sorted((REPO / "db" / "service").glob("*.py")):
        if p.name == "kpi.py":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                out += [f"{p.name}:{node.name}" for f in node.body
                        if isinstance(f, ast.FunctionDef) and f.name == name]
    return out


def test_each_row_helper_is_written_once() -> None:
    copies = {name: _definitions(name) for name in SHARED}
    assert copies == {name: ["items.py:ItemRows"] for name in SHARED}


def test_both_services_use_the_one_copy() -> None:
    for name in SHARED:
        assert getattr(OrderService, name) is getattr(ReturnService, name), name
