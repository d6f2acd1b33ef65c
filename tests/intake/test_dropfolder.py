"""orderq intake --watch DIR: each file imported once, moved to done/ or failed/; half-written files wait."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import REPO, connect_db, run_cli
from tests.helpers import wait_for
from tests.intake.conftest import write_slice
from tests.intake.expected import expect


def _refs(db: Path) -> set[str]:
    c = connect_db(db)
    try:
        return {r[0] for r in c.execute("SELECT source_ref FROM orders")}
    finally:
        c.close()


def _drop(folder: Path, name: str, data: bytes) -> None:
    """The polite protocol: write under a .part name, then rename into place."""
    part = folder / f"{name}.part"
    part.write_bytes(data)
    os.rename(part, folder / name)


def test_drop_folder(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    drop = tmp_path / "drop"
    drop.mkdir()
    first, slow, third = slices.head[:60], slices.head[60:200], slices.head[200:260]
    files = {n: write_slice(tmp_path / n, inv).read_bytes() for n, inv in
             (("first.csv", first), ("slow.csv", slow), ("third.csv", third))}
    exe = Path(sys.executable).parent / "orderq"
    watcher = subprocess.Popen([str(exe), "--db", str(db_path), "intake", "--watch", str(drop), "--settle", "0.3",
                                "--json"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        (drop / "never.csv.part").write_bytes(files["first.csv"])
        _drop(drop, "first.csv", files["first.csv"])
        wait_for(lambda: (drop / "done" / "first.csv").exists(), 30, "first.csv in done/", 0.02)
        assert set(expect(first).orders) <= _refs(db_path)

        # a file written in place, slowly: it must not be read until the writer is done
        third_done = threading.Event()
        data = files["slow.csv"]

        def writer() -> None:
            """Keeps appending a few bytes every 0.1 s until third.csv has been handled, then the rest."""
            with open(drop / "slow.csv", "wb") as fh:
                pos = 0
                while not third_done.is_set() and pos < len(data) // 2:
                    fh.write(data[pos:pos + 64])
                    fh.flush()
                    pos += 64
                    third_done.wait(0.1)
                fh.write(data[pos:])

        t = threading.Thread(target=writer)
        t.start()
        try:
            time.sleep(0.1)
            _drop(drop, "third.csv", files["third.csv"])
            wait_for(lambda: (drop / "done" / "third.csv").exists(), 30, "third.csv in done/", 0.02)
            assert t.is_alive(), "the slow writer should still be writing"
            assert (drop / "slow.csv").exists() and not (drop / "done" / "slow.csv").exists()
            assert not (set(expect(slow).orders) & _refs(db_path)), "a half-written file was read"
        finally:
            third_done.set()
        t.join()
        wait_for(lambda: (drop / "done" / "slow.csv").exists(), 30, "slow.csv in done/", 0.02)
        assert set(expect(slow).orders) <= _refs(db_path), "the whole slow file was imported"

        # the same content again: imported once means it adds nothing the second time
        before = len(_refs(db_path))
        _drop(drop, "first-again.csv", files["first.csv"])
        wait_for(lambda: (drop / "done" / "first-again.csv").exists(), 30, "first-again.csv in done/", 0.02)
        assert len(_refs(db_path)) == before

        # a broken file goes to failed/ with the reason beside it
        _drop(drop, "broken.csv.gz", b"not gzip at all")
        wait_for(lambda: (drop / "failed" / "broken.csv.gz.reason").exists(), 30, "failed/broken.csv.gz.reason", 0.02)
        assert (drop / "failed" / "broken.csv.gz").exists()
        assert (drop / "failed" / "broken.csv.gz.reason").read_text().strip()
        assert (drop / "never.csv.part").exists(), ".part files are never taken"
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
        err = watcher.stderr.read().decode()
        watcher.stderr.close()
    assert "Traceback" not in err, err
    assert run_cli("--db", str(db_path), "check").returncode == 0


def test_intake_once_imports_what_is_there(slices, db_path: Path, tmp_path: Path) -> None:  # noqa: ANN001
    drop = tmp_path / "drop"
    drop.mkdir()
    write_slice(drop / "a.csv", slices.head[:30])
    proc = run_cli("--db", str(db_path), "intake", "--watch", str(drop), "--once", "--settle", "0.1", "--json",
                   check=True)
    assert '"outcome": "done"' in proc.stdout
    assert (drop / "done" / "a.csv").exists() and not (drop / "a.csv").exists()
    assert set(expect(slices.head[:30]).orders) <= _refs(db_path)
