"""Bad-input fuzzing of import rows: random generic-CSV files through `orderq import`.

Contract (SPEC §3, §6): the import is atomic per file with --strict (any bad row: exit 2, one line,
nothing written); without --strict, bad rows go to the rejects file with their row number and a
reason, every order in the file is either imported or has a rejected row, and never a traceback.
This needs `orderq import` (the intake work); on a branch without it there is nothing to fuzz.
"""
from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import build_parser, main
from tests.conftest import run_cli
from tests.prove.conftest import fingerprint

HAS_IMPORT = "import" in next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices).choices
pytestmark = pytest.mark.skipif(not HAS_IMPORT, reason="`orderq import` is not on this branch yet (intake work)")

COLUMNS = ["order_ref", "customer", "sku", "qty", "unit_price", "discount", "channel", "type", "received_at"]
_refs = itertools.count(1)


@pytest.fixture(scope="module")
def import_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzzimport")
    p = folder / "imp.db"
    run_cli("--db", str(p), "demo", "--orders", "40", "--seed", "9", check=True)
    with contextlib.chdir(folder):
        yield p


def _known(db: Path) -> tuple[list[str], list[str]]:
    c = sqlite3.connect(db)
    try:
        custs = [r[0] for r in c.execute("SELECT code FROM customers ORDER BY code LIMIT 5")]
        skus = [r[0] for r in c.execute("SELECT sku FROM products WHERE active = 1 ORDER BY sku LIMIT 5")]
        return custs, skus
    finally:
        c.close()


# no line breaks inside fields: a quoted multi-line field is numbered by its last physical line
# (csv.reader.line_num), which this test does not try to second-guess
JUNK = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=8)


def field_values(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(good), st.sampled_from(bad), JUNK)


@st.composite
def files(draw: st.DrawFn, custs: list[str], skus: list[str]) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        ref = f"FZ-{os.getpid()}-{next(_refs)}"
        head = {
            "customer": draw(field_values(custs, ["", "C99999", "c00001 "])),
            "channel": draw(field_values(["phone", "online", "edi", ""], ["pigeon", "ONLINE"])),
            "type": draw(field_values(["standard", "rush", ""], ["urgent"])),
            "received_at": draw(field_values(["", "2026-11-20T10:00:00", "2026-11-20 10:00"], ["yesterday", "2026-13-40"])),
        }
        for _ in range(draw(st.integers(1, 3))):
            rows.append({
                "order_ref": ref, **head,
                "sku": draw(field_values(skus, ["", "NOPE-1", "POST"])),
                "qty": draw(field_values(["1", "2", "5"], ["0", "-1", "1.5", "x", "", "99999999999"])),
                "unit_price": draw(field_values(["", "9.99", "0", "1.2345"], ["-1", "1.23456", "abc", "NaN", "1e3"])),
                "discount": draw(field_values(["", "0", "10", "12.5"], ["-3", "100.5", "1.234", "%"])),
            })
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def imported_refs(db: Path, refs: set[str]) -> set[str]:
    c = sqlite3.connect(db)
    try:
        return {r[0] for r in c.execute(
            f"SELECT source_ref FROM orders WHERE source_ref IN ({','.join('?' * len(refs))})", sorted(refs))}
    finally:
        c.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(data=st.data())
def test_strict_import_is_all_or_nothing(import_db: Path, capsys: pytest.CaptureFixture, data: st.DataObject) -> None:
    custs, skus = _known(import_db)
    rows = data.draw(files(custs, skus))
    src = import_db.parent / "strict.csv"
    write_csv(src, rows)
    refs = {r["order_ref"] for r in rows}
    before = fingerprint(import_db)
    capsys.readouterr()
    rc = main(["--db", str(import_db), "import", str(src), "--format", "csv", "--strict",
               "--rejects", str(import_db.parent / "strict.rejects.csv")])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert rc in (0, 2), (rc, err)
    got = imported_refs(import_db, refs)
    if rc == 2:
        assert fingerprint(import_db) == before, f"a refused strict import wrote something: {err}"
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and "row" in lines[-1].lower(), f"the refusal does not name the bad row: {err!r}"
    else:
        assert got == refs, "a strict import that succeeded left orders out"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(data=st.data())
def test_lenient_import_rejects_bad_rows_by_number(import_db: Path, capsys: pytest.CaptureFixture,
                                                   data: st.DataObject) -> None:
    custs, skus = _known(import_db)
    rows = data.draw(files(custs, skus))
    src = import_db.parent / "lenient.csv"
    rejects = import_db.parent / "lenient.rejects.csv"
    rejects.unlink(missing_ok=True)
    write_csv(src, rows)
    refs = {r["order_ref"] for r in rows}
    capsys.readouterr()
    rc = main(["--db", str(import_db), "import", str(src), "--format", "csv", "--rejects", str(rejects)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert rc == 0, (rc, err)
    got = imported_refs(import_db, refs)
    rejected_refs: set[str] = set()
    if rejects.exists():
        for rec in csv.reader(io.StringIO(rejects.read_text(encoding="utf-8"))):
            if not rec or not rec[0].strip().isdigit():
                continue  # a header
            n = int(rec[0])
            assert 1 <= n <= len(rows) + 1, f"reject names row {n} of a {len(rows)}-row file"
            assert len(rec) > 1 and rec[1].strip(), f"reject of row {n} gives no reason"
            # row numbers count the header as row 1 or not; either way the row is one of these two
            for k in (n - 1, n - 2):
                if 0 <= k < len(rows):
                    rejected_refs.add(rows[k]["order_ref"])
    missing = refs - got - rejected_refs
    assert not missing, f"orders neither imported nor rejected: {missing}"


def test_check_passes_after_the_fuzzed_imports(import_db: Path) -> None:
    p = run_cli("--db", str(import_db), "check")
    assert p.returncode == 0, p.stdout
