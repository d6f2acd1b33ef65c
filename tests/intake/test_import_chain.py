"""A bulk import writes its events through the one event writer, so they join the hash chain (SPEC §6)."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import connect_db, run_cli
from tests.intake.conftest import Slices


def test_an_import_into_a_live_desk_chains_on_and_check_passes(demo_db: Path, slices: Slices, tmp_path: Path) -> None:
    c = connect_db(demo_db)
    last_id, last_hash = c.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    file = slices.file("chain.csv", slices.head[:150])
    run_cli("--db", str(demo_db), "import", str(file), "--rejects", str(tmp_path / "rej.csv"), check=True)
    first = c.execute("SELECT id, prev_hash FROM events WHERE id > ? ORDER BY id LIMIT 1", (last_id,)).fetchone()
    assert first == (last_id + 1, last_hash), "the import's first event follows the desk's last one"
    assert c.execute("SELECT COUNT(*) FROM events WHERE id > ?", (last_id,)).fetchone()[0] > 150
    c.close()
    proc = run_cli("--db", str(demo_db), "check")
    assert proc.returncode == 0, proc.stdout
