"""Storage faults on real small filesystems: a full disk, a damaged file, a file that is not ours.

A command that commits in steps must say how far it got, never "nothing was written" when something
was; a rejects file is never lost while its orders are kept; `check` and `backup` never make things
worse. The full disks are real tmpfs mounts (this needs root, as the CI and desk hosts run the suite),
and every command runs as the real `orderq` in its own process.
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import connect_db, json_lines, run_cli

Disk = Callable[[str], Path]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Disk]:
    """`tiny_disk("2m")`: a fresh tmpfs of that size, unmounted at teardown."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            pytest.fail(f"these tests need a real small filesystem: mount tmpfs failed (root needed): {p.stderr}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def resize(point: Path, size: str) -> None:
    """Free space on a full tmpfs the way an operator would: give it more room."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True)


def fill(point: Path) -> Path:
    """Fill the filesystem to the last page; remove the returned file to free it again."""
    filler = point / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for block in (65536, 4096):
            try:
                while fh.write(b"\0" * block):
                    pass
            except OSError:
                pass
    return filler


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(db: Path | str, sql: str) -> int:
    conn = connect_db(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def active_skus(db: Path | str) -> list[str]:
    conn = connect_db(db)
    try:
        return [r[0] for r in conn.execute("SELECT sku FROM products WHERE active = 1 ORDER BY sku")]
    finally:
        conn.close()


def generic_csv(path: Path, db: Path, orders: int, *, rejects_before_each: bool = False,
                bom: bool = False) -> Path:
    """Generic-format orders T-1 … T-n for the demo customers; with `rejects_before_each`, each is preceded
    by an order R-k whose only line names an unknown (long) SKU, so R-k is a rejected row."""
    skus = active_skus(db)
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["order_ref", "customer", "sku", "qty"])
        for k in range(1, orders + 1):
            cust = f"C{(k % 20) + 1:05d}"
            if rejects_before_each:
                w.writerow([f"R-{k}", cust, f"NO-SUCH-SKU-{k}-" + "x" * 400, 1])
            w.writerow([f"T-{k}", cust, skus[k % len(skus)], 1 + k % 3])
    return path


def imported(db: Path) -> int:
    return count(db, "SELECT COUNT(*) FROM orders WHERE source_ref LIKE 'T-%'")


# ---- "nothing was written" is true, and a stepped command says how far it got ------------------------------

@pytest.mark.sqlite_only("the SQLite database file itself sits on the full disk")
def test_import_on_a_full_disk_says_how_many_orders_were_committed_and_resumes(
        tmp_path: Path, demo_db: Path, tiny_disk: Disk) -> None:
    disk = tiny_disk("64m")
    db = Path(shutil.copy(demo_db, disk / "orderq.db"))
    src = generic_csv(tmp_path / "orders.csv", db, 3000)
    used = shutil.disk_usage(disk).used
    resize(disk, str(used + 1_500_000))  # room for some chunks of 100 orders, not for all 3000
    args = ("--db", str(db), "import", str(src), "--chunk", "100", "--rejects", str(tmp_path / "rejects.csv"))
    p = run_cli(*args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    n = imported(db)
    assert 0 < n < 3000, "the disk should fill part-way through"
    assert "nothing was written" not in p.stderr
    assert f"the disk is full after {n:,} orders were committed" in p.stderr, p.stderr
    assert "re-run the same command to resume" in p.stderr

    resize(disk, "64m")
    again = run_cli(*args, "--json")
    assert again.returncode == 0, again.stderr
    s = json_lines(again.stdout)[-1]
    assert (s["orders"], s["already_imported_orders"], s["conserved"]) == (3000 - n, n, True)
    assert imported(db) == 3000
    assert run_cli("--db", str(db), "check").returncode == 0


def test_import_with_rejects_on_a_full_disk_keeps_no_orders_without_their_rejects(
        tmp_path: Path, demo_db: Path, tiny_disk: Disk) -> None:
    """The probe: orders imported, the rejects lost, and the error blamed the input."""
    disk = tiny_disk("1m")
    filler = fill(disk)
    src = generic_csv(tmp_path / "orders.csv", demo_db, 20, rejects_before_each=True)
    rejects = disk / "rejects.csv"
    args = ("--db", str(demo_db), "import", str(src), "--rejects", str(rejects))
    p = run_cli(*args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"cannot write the rejects file {rejects}" in p.stderr, p.stderr
    assert "cannot read" not in p.stderr  # the input is fine
    assert imported(demo_db) == 0, "orders were kept while their rejects were lost"

    filler.unlink()
    assert run_cli(*args).returncode == 0
    assert imported(demo_db) == 20
    with open(rejects, newline="", encoding="utf-8") as fh:
        assert sorted(r["ref"] for r in csv.DictReader(fh)) == sorted(f"R-{k}" for k in range(1, 21))


def test_rejects_of_every_committed_chunk_are_on_disk_when_the_rejects_disk_fills(
        tmp_path: Path, demo_db: Path, tiny_disk: Disk) -> None:
    """R-k is rejected just before T-k is read: when chunks of T-orders commit, their R-rejects are on disk."""
    disk = tiny_disk("256k")
    src = generic_csv(tmp_path / "orders.csv", demo_db, 2000, rejects_before_each=True)
    rejects = disk / "rejects.csv"
    p = run_cli("--db", str(demo_db), "import", str(src), "--chunk", "25", "--rejects", str(rejects))
    assert p.returncode == 2, p.stdout + p.stderr
    n = imported(demo_db)
    assert 0 < n < 2000, "the rejects disk should fill part-way through"
    assert f"after {n:,} orders were committed" in p.stderr and "rejects file" in p.stderr, p.stderr
    with open(rejects, newline="", encoding="utf-8") as fh:
        refs = {r.get("ref") for r in csv.DictReader(fh)}
    assert {f"R-{k}" for k in range(1, n + 1)} <= refs


def test_rejects_to_a_folder_is_refused_without_blaming_the_input(tmp_path: Path, demo_db: Path) -> None:
    src = generic_csv(tmp_path / "orders.csv", demo_db, 3, rejects_before_each=True)
    folder = tmp_path / "somedir"
    folder.mkdir()
    p = run_cli("--db", str(demo_db), "import", str(src), "--rejects", str(folder))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "rejects" in p.stderr and "cannot read" not in p.stderr, p.stderr
    assert imported(demo_db) == 0 and list(folder.iterdir()) == []


def test_demo_on_a_full_disk_says_what_it_committed(tiny_disk: Disk) -> None:
    disk = tiny_disk("1m")
    db = disk / "orderq.db"
    p = run_cli("--db", str(db), "demo", "--orders", "300")
    assert p.returncode == 2, p.stdout + p.stderr
    orders, returns = count(db, "SELECT COUNT(*) FROM orders"), count(db, "SELECT COUNT(*) FROM returns")
    if orders:
        assert "nothing was written" not in p.stderr, p.stderr
        assert f"after {orders} demo orders and {returns} of 40 returns were committed" in p.stderr, p.stderr
        assert f"--orders 0 --returns {40 - returns}" in p.stderr
    else:
        assert "no demo data was written" in p.stderr, p.stderr


# ---- check: read-only, refuses what is not ours, reports damage as a FAIL ----------------------------------

def _other_apps_database(path: Path) -> Path:
    conn = sqlite3.connect(path)  # rollback-journal mode, as most apps leave it
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(50)])
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("kind", ["empty", "other-app", "text"])
def test_check_refuses_a_file_that_is_not_orderq_and_leaves_it_untouched(tmp_path: Path, kind: str) -> None:
    f = tmp_path / f"{kind}.db"
    if kind == "empty":
        f.touch()
    elif kind == "other-app":
        _other_apps_database(f)
    else:
        f.write_text("order_ref,customer\n")
    before = sha(f)
    p = run_cli("--db", str(f), "check")
    assert p.returncode == 2, p.stdout + p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert sha(f) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == [f.name], "check left -wal/-shm/-journal files"
    if kind == "other-app":
        conn = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()


@pytest.mark.parametrize("command", [("init",), ("demo", "--orders", "1")])
def test_init_and_demo_refuse_another_apps_database_and_leave_it_untouched(tmp_path: Path,
                                                                           command: tuple[str, ...]) -> None:
    """The next thing after `check` on another app's file: `orderq --db their.sqlite init` (or demo)
    migrated it, switching it to WAL for good and adding orderq's tables beside its own."""
    f = _other_apps_database(tmp_path / "other-app.db")
    before = sha(f)
    p = run_cli("--db", str(f), *command, env={"ORDERQ_TEST_CLOCK": "1"})
    assert p.returncode == 2, p.stdout + p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "another application's database" in p.stderr
    assert sha(f) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == [f.name]


def _damage(db: Path) -> Path:
    """Overwrite some pages in the middle of a (checkpointed) database with junk."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pages = db.stat().st_size // 4096
    with open(db, "r+b") as fh:
        for page in range(pages // 3, pages // 3 + 8):
            fh.seek(page * 4096)
            fh.write(bytes((page * 37 + i) % 251 for i in range(4096)))
    return db


@pytest.mark.sqlite_only("damages pages of the SQLite file; SQLite's integrity_check")
def test_check_on_a_damaged_database_reports_integrity_check_fail(demo_db: Path) -> None:
    db = _damage(demo_db)
    p = run_cli("--db", str(db), "check")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAIL integrity_check" in p.stdout, p.stdout
    assert p.stderr == ""
    j = json_lines(run_cli("--db", str(db), "check", "--json").stdout)[-1]
    assert j["ok"] is False and j["checks"][0]["name"] == "integrity_check" and not j["checks"][0]["ok"]


# ---- backup: a damaged source fails, and a failed backup leaves nothing that blocks the retry ---------------

@pytest.mark.sqlite_only("damages pages of the SQLite file; `orderq backup` copies SQLite files (PostgreSQL: pg_dump)")
def test_backup_of_a_damaged_database_fails_and_leaves_nothing(tmp_path: Path, demo_db: Path) -> None:
    db = _damage(demo_db)
    out = tmp_path / "out"
    out.mkdir()
    p = run_cli("--db", str(db), "backup", str(out / "copy.db"))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "damaged" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert list(out.iterdir()) == []


@pytest.mark.sqlite_only("`orderq backup` copies a SQLite file (PostgreSQL's backups are pg_dump's)")
@pytest.mark.parametrize("full", ["too small", "full to the last page"])
def test_backup_on_a_full_disk_fails_cleanly_and_the_retry_succeeds(demo_db: Path, tiny_disk: Disk,
                                                                     full: str) -> None:
    disk = tiny_disk("256k")  # smaller than the demo database
    filler = fill(disk) if full == "full to the last page" else None
    dest = disk / "copy.db"
    p = run_cli("--db", str(demo_db), "backup", str(dest))
    assert p.returncode == 2, p.stdout + p.stderr
    assert [f.name for f in disk.iterdir() if f != filler] == [], "a failed backup left a file behind"
    assert "backup failed" in p.stderr and "Traceback" not in p.stderr, p.stderr

    if filler:
        filler.unlink()
    resize(disk, "16m")
    assert run_cli("--db", str(demo_db), "backup", str(dest)).returncode == 0
    assert run_cli("--db", str(dest), "check").returncode == 0
    assert count(dest, "SELECT COUNT(*) FROM orders") == count(demo_db, "SELECT COUNT(*) FROM orders")


# ---- intake: a byte-order mark ----------------------------------------------------------------------------

def test_generic_csv_with_a_utf8_bom_imports(tmp_path: Path, demo_db: Path) -> None:
    src = generic_csv(tmp_path / "excel.csv", demo_db, 5, bom=True)
    assert src.read_bytes().startswith(b"\xef\xbb\xbf")
    for fmt in ("auto", "csv"):
        p = run_cli("--db", str(demo_db), "import", str(src), "--format", fmt, "--json",
                    "--rejects", str(tmp_path / "rejects.csv"))
        assert p.returncode == 0, p.stderr
        s = json_lines(p.stdout)[-1]
        assert s["rejects"] == 0 and s["orders"] + s["already_imported_orders"] == 5
    assert imported(demo_db) == 5
    assert not os.path.exists(tmp_path / "rejects.csv")


def test_a_refusal_after_earlier_commits_does_not_say_nothing_was_written() -> None:
    """The safety net under every command (cli.main): one command per process, so any commit this process
    made belongs to the failing command, and "nothing was written" would be false."""
    from cli.main import _honest

    msg = "the disk is full; nothing was written"
    assert _honest(msg, 0) == msg
    assert "nothing was written" not in _honest(msg, 3) and "3 earlier write(s)" in _honest(msg, 3)
