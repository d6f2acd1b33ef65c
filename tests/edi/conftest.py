"""The real EDI samples (../shared/data/edi), found the way every data test finds its data."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import find_data_dir

EDI = find_data_dir() / "edi"
X12_SAMPLES = sorted(p for p in (EDI / "x12").iterdir() if p.is_file())
EDIFACT_SAMPLES = sorted(p for p in (EDI / "edifact").iterdir() if p.is_file())


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]
