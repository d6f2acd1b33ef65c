"""The real EDI samples (../shared/data/edi), found the way every data test finds its data."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from core.edi.purchase_order import LineAnswer, LineStatus, OrderAnswer, PurchaseOrder

from tests.conftest import find_data_dir

EDI = find_data_dir() / "edi"
X12_SAMPLES = sorted(p for p in (EDI / "x12").iterdir() if p.is_file())
EDIFACT_SAMPLES = sorted(p for p in (EDI / "edifact").iterdir() if p.is_file())


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def mixed_answer(order: PurchaseOrder) -> OrderAnswer:
    """An acknowledgment that uses every line status in turn: accepted, backordered (ships
    2026-12-20), changed (one more than ordered), rejected."""
    cycle = [LineStatus.ACCEPTED, LineStatus.BACKORDERED, LineStatus.CHANGED, LineStatus.REJECTED]
    answers = tuple(LineAnswer(ln, cycle[i % 4], quantity=ln.quantity + 1 if i % 4 == 2 else None,
                               ship_date=date(2026, 12, 20) if i % 4 == 1 else None)
                    for i, ln in enumerate(order.lines))
    return OrderAnswer(order, answers, date(2026, 12, 1))
