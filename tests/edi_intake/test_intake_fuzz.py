"""Hypothesis on mutations of the real X12 samples, through the whole intake (db/service/edi_intake.py)
over a real database with a partner for every sample's sender: each file is imported or refused with
a one-line reason (`OrderqError`), never another exception; a refusal writes nothing; every rejected
message has its reason; every import leaves a 997 that parses back."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from core.edi.x12 import parse_x12
from core.errors import OrderqError
from tests.edi.conftest import X12_SAMPLES
from tests.edi.test_x12_fuzz import mutated
from tests.edi_intake.conftest import counts


@pytest.fixture
def fuzz_desk(demo_db: Path, desk_for, tmp_path: Path):  # noqa: ANN201
    desk = desk_for(demo_db, None)
    seen = set()
    for n, sample in enumerate(X12_SAMPLES):
        for ic in parse_x12(sample.read_bytes()):
            env = ic.envelope()
            ident = (env.sender_qualifier, env.sender_id)
            if ident in seen:
                continue
            seen.add(ident)
            name = f"p{n}-{len(seen)}"
            desk.partners.add(name, "edi", customer="C00003")
            out = tmp_path / name
            out.mkdir()
            desk.edi_partners.set_profile(name, isa=f"{ident[0]}:{ident[1]}", outbox=str(out))
    return desk, demo_db


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_mutated_samples_import_or_are_refused_with_a_reason(data: bytes, fuzz_desk) -> None:  # noqa: ANN001
    desk, db = fuzz_desk
    before = counts(db)
    try:
        s = desk.edi.import_bytes(data, name="fuzz.x12", fmt="x12")
    except OrderqError as e:
        assert e.message and "\n" not in e.message
        assert counts(db) == before  # refused: nothing written
        return
    assert all(r.strip() for r in s.rejected)
    for ack in s.documents:
        (ic,) = parse_x12(ack)
        assert ic.messages[0].type == "997"
