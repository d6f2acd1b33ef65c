"""Hostile or careless commands that once lost data (issue 17, "Data loss" 1, 2 and 4; SPEC §6 "Outputs
never overwrite data").

Each command runs as the real `orderq` process against a real WAL database full of demo data, with a
live session (another connection) holding the database, its -wal and -shm open, as on a working live.
After each refusal: exit 2 with one line on stderr naming the flag, the database byte-for-byte what
it was (hashed after a checkpoint), `orderq check` passing with every order and event still there,
and the input and any bystander file unchanged.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, connect_db, run_cli
from tests.prove.conftest import fingerprint

#: the tests that name the database's own files (the file, its -wal, -shm, -journal, links to them, its
#: folder): a PostgreSQL database has no file beside the command to name
ABOUT_ITS_FILES = pytest.mark.sqlite_only("names the SQLite database's own files (-wal, -shm, links, its folder)")

#: a file the generic csv importer reads, with one row it rejects (unknown customer)
SMALL_CSV = "order_ref,customer,sku,qty\n" + "".join(f"H{i},NOBODY,NOSKU,1\n" for i in range(17))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class LiveDb:
    """The database under attack, with a live session holding it open."""

    db: Path | str
    session: sqlite3.Connection

    def state(self) -> tuple[str, str, int, int]:
        """(file hash after a checkpoint, row fingerprint, orders, events); on PostgreSQL, which has no
        file to hash, the rows' fingerprint alone."""
        if isinstance(self.db, Path):
            self.session.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        orders = self.session.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        events = self.session.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return _sha(self.db) if isinstance(self.db, Path) else "", fingerprint(self.db), orders, events

    def run(self, *args: str) -> "Refusal":
        return Refusal(run_cli("--db", str(self.db), *args))

    def assert_check_passes(self) -> None:
        proc = run_cli("--db", str(self.db), "check", "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert json.loads(proc.stdout)["ok"] is True


@dataclass
class Refusal:
    proc: subprocess.CompletedProcess[str]

    def assert_refused(self, *words: str) -> None:
        """Exit 2, one line on stderr, and that line says which flag and why."""
        p = self.proc
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1, p.stderr
        for w in words:
            assert w in lines[0], lines[0]


@pytest.fixture
def live(demo_db: Path | str) -> Iterator[LiveDb]:
    if not isinstance(demo_db, Path):  # PostgreSQL: a live session holding the database, no files
        session = connect_db(demo_db)
        session.execute("SELECT COUNT(*) FROM orders").fetchone()
        yield LiveDb(demo_db, session)
        session.close()
        return
    session = sqlite3.connect(demo_db, timeout=10)
    assert session.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    session.execute("SELECT COUNT(*) FROM orders").fetchone()  # the -wal and -shm exist while it is open
    assert demo_db.with_name(demo_db.name + "-wal").exists() and demo_db.with_name(demo_db.name + "-shm").exists()
    yield LiveDb(demo_db, session)
    session.close()


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    p = tmp_path / "small.csv"
    p.write_text(SMALL_CSV, encoding="utf-8")
    return p


def _a_sqlite_file(tmp_path: Path, name: str) -> Path:
    """A SQLite database file the command does not own (on PostgreSQL the live database is no file)."""
    p = tmp_path / name
    run_cli("--db", str(p), "init", check=True)
    return p


def _no_temp_left(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# ---- output paths that are the database ----------------------------------------------------------------

def _alias(live: LiveDb, how: str) -> str:
    """A name for one of the database's own files: as given, relative, through a symlink, a hard link."""
    db = live.db
    if how == "db":
        return str(db)
    if how in ("-wal", "-shm", "-journal"):
        return str(db) + how
    if how == "dot-relative":
        return "./" + os.path.relpath(db, REPO)  # the CLI runs in the repo
    if how == "symlink":
        link = db.parent / "report.csv"
        link.symlink_to(db.name)
        return str(link)
    if how == "symlink-to-wal":
        link = db.parent / "log.csv"
        link.symlink_to(db.name + "-wal")
        return str(link)
    if how == "hardlink":
        link = db.parent / "hard.csv"
        os.link(db, link)
        return str(link)
    raise AssertionError(how)


ALIASES = ["db", "-wal", "-shm", "-journal", "dot-relative", "symlink", "symlink-to-wal", "hardlink"]


@ABOUT_ITS_FILES
@pytest.mark.parametrize("how", ALIASES)
def test_import_rejects_onto_the_database_is_refused(live: LiveDb, tmp_path: Path, how: str) -> None:
    """The probe: `import nul.csv --rejects orderq.db` turned a 3.2 MB database into a 182-byte CSV."""
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"order_ref,customer,sku,qty\nX\x00,\x00,\x00,1\n")
    before = live.state()
    live.run("import", str(nul), "--format", "csv", "--rejects", _alias(live, how)).assert_refused("--rejects", "database")
    assert live.state() == before
    assert not Path(str(live.db) + "-journal").exists()
    live.assert_check_passes()


@ABOUT_ITS_FILES
@pytest.mark.parametrize("how", ALIASES)
def test_kpi_html_onto_the_database_is_refused(live: LiveDb, how: str) -> None:
    """The probe: `kpi --html orderq.db` overwrote the database with the report and exited 0."""
    before = live.state()
    live.run("kpi", "--html", _alias(live, how)).assert_refused("--html", "database")
    assert live.state() == before
    live.assert_check_passes()


@ABOUT_ITS_FILES
@pytest.mark.parametrize("how", ["-journal", "symlink-to-wal"])
def test_backup_onto_the_databases_own_files_is_refused(live: LiveDb, how: str) -> None:
    """A backup written as the -journal beside a live database would be taken for a hot journal."""
    before = live.state()
    live.run("backup", _alias(live, how)).assert_refused("backup", "database")
    assert live.state() == before
    assert not Path(str(live.db) + "-journal").exists()
    live.assert_check_passes()


# ---- the input, folders, and files the command does not own --------------------------------------------

def test_rejects_onto_the_input_being_read_is_refused(live: LiveDb, small_csv: Path) -> None:
    """The probe: `import small.csv --rejects small.csv` overwrote the input while reading it; 17 rows
    ended in neither an order nor a reject, and the summary still said conserved: true."""
    before, text = live.state(), small_csv.read_bytes()
    live.run("import", str(small_csv), "--rejects", str(small_csv)).assert_refused("--rejects", "input")
    assert small_csv.read_bytes() == text
    assert live.state() == before


def test_rejects_into_a_folder_names_the_flag_not_the_input(live: LiveDb, small_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "somedir"
    folder.mkdir()
    before = live.state()
    live.run("import", str(small_csv), "--rejects", str(folder)).assert_refused("--rejects", "folder")
    # a name ending in "/" is a folder too, even one that does not exist: it once became a file "out"
    live.run("import", str(small_csv), "--rejects", f"{tmp_path / 'out'}/").assert_refused("--rejects", "folder")
    live.run("kpi", "--html", f"{tmp_path / 'out'}/").assert_refused("--html", "folder")
    assert not (tmp_path / "out").exists()
    assert live.state() == before
    assert list(folder.iterdir()) == []


def test_an_existing_file_that_is_not_ours_is_never_overwritten(live: LiveDb, small_csv: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("the supplier's price list, not a rejects file\n", encoding="utf-8")
    if isinstance(live.db, Path):
        copy = tmp_path / "copy.db"
        sqlite3.connect(live.db).backup(c := sqlite3.connect(copy))
        c.close()
    else:
        copy = _a_sqlite_file(tmp_path, "copy.db")
    before, notes_sha, copy_sha = live.state(), _sha(notes), _sha(copy)
    live.run("import", str(small_csv), "--rejects", str(notes)).assert_refused("--rejects", "exists already")
    live.run("kpi", "--html", str(notes)).assert_refused("--html", "exists already")
    live.run("import", str(small_csv), "--rejects", str(copy)).assert_refused("--rejects", "exists already")
    assert (_sha(notes), _sha(copy)) == (notes_sha, copy_sha)
    assert live.state() == before
    _no_temp_left(tmp_path)


def test_a_rerun_replaces_its_own_outputs_whole(live: LiveDb, small_csv: Path, tmp_path: Path) -> None:
    """What a command owns: its own earlier rejects file or report, recognised by how it begins. It is
    replaced by a rename (a new inode), never truncated in place, so a reader never sees half of it."""
    rejects, report = tmp_path / "small.rejects.csv", tmp_path / "report.html"
    inodes = []
    for _ in range(2):
        proc = run_cli("--db", str(live.db), "import", str(small_csv), "--rejects", str(rejects), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["rejects"] == 17
        assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + 17
        proc = run_cli("--db", str(live.db), "kpi", "--html", str(report))
        assert proc.returncode == 0, proc.stderr
        assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")
        inodes.append((rejects.stat().st_ino, report.stat().st_ino))
    assert inodes[0][0] != inodes[1][0] and inodes[0][1] != inodes[1][1]
    _no_temp_left(tmp_path)
    live.assert_check_passes()


# ---- the drop folder ----------------------------------------------------------------------------------

@ABOUT_ITS_FILES
@pytest.mark.parametrize("where", ["the database's folder", "a parent of it"])
def test_a_watch_folder_holding_the_database_is_refused(live: LiveDb, where: str) -> None:
    """The probe: `intake --watch` on the database's folder moved orderq.db, -wal and -shm into failed/."""
    key = live.db.parent / "host_key_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n", encoding="utf-8")
    folder = live.db.parent if where == "the database's folder" else live.db.parent.parent
    before, key_sha = live.state(), _sha(key)
    live.run("intake", "--watch", str(folder), "--once", "--settle", "0").assert_refused("--watch", "database")
    assert live.state() == before
    assert _sha(key) == key_sha
    assert not (folder / "failed").exists() and not (folder / "done").exists()
    live.assert_check_passes()


def test_the_drop_folder_takes_only_import_files(live: LiveDb, small_csv: Path, tmp_path: Path) -> None:
    """A host key, a SQLite file under an import name, notes, dotfiles and .part files stay where they are."""
    drop = tmp_path / "drop"
    drop.mkdir()
    a_db = live.db if isinstance(live.db, Path) else _a_sqlite_file(tmp_path, "a.db")
    bystanders = {
        "host_key_ed25519": b"-----BEGIN OPENSSH PRIVATE KEY-----\n",
        "notes.txt": b"call the carrier\n",
        ".hidden.csv": SMALL_CSV.encode(),
        "late.csv.part": SMALL_CSV.encode(),
        "other.db": a_db.read_bytes(),
        "sneaky.csv": a_db.read_bytes(),
    }
    for name, data in bystanders.items():
        (drop / name).write_bytes(data)
    (drop / "small.csv").write_bytes(small_csv.read_bytes())
    proc = run_cli("--db", str(live.db), "intake", "--watch", str(drop), "--once", "--settle", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [Path(json.loads(x)["file"]).name for x in proc.stdout.splitlines()] == ["small.csv"]
    for name, data in bystanders.items():
        assert (drop / name).read_bytes() == data, name
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["small.csv", "small.csv.rejects.csv"]
    assert list((drop / "failed").iterdir()) == []


def _ed25519_blob() -> str:
    """A well-formed ssh-ed25519 public key blob (RFC 8709: the type name, then the 32-byte key)."""
    def field(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    return base64.b64encode(field(b"ssh-ed25519") + field(hashlib.sha256(b"frank").digest())).decode()


# ---- users add --key --------------------------------------------------------------------------------

def test_users_add_with_a_bad_key_creates_nobody(live: LiveDb, tmp_path: Path) -> None:
    """The probe: `users add frank --role rep --key missing.pub` exited 2 but created frank, so the retry
    said "exists already"."""
    damaged = tmp_path / "damaged.pub"
    damaged.write_text("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQCz frank@laptop\n", encoding="utf-8")
    before = live.state()
    live.run("users", "add", "frank", "--role", "rep", "--key", str(tmp_path / "missing.pub")).assert_refused("key")
    live.run("users", "add", "frank", "--role", "rep", "--key", str(damaged)).assert_refused("key")
    assert live.state() == before
    good = tmp_path / "frank.pub"
    good.write_text(f"ssh-ed25519 {_ed25519_blob()} frank@laptop\n", encoding="utf-8")
    proc = run_cli("--db", str(live.db), "users", "add", "frank", "--role", "rep", "--key", str(good))
    assert proc.returncode == 0, proc.stderr
    # the same key for a second user: refused, and that user is not half-made either
    live.run("users", "add", "gina", "--role", "rep", "--key", str(good)).assert_refused("registered already")
    users = {json.loads(x)["name"]: json.loads(x) for x in
             run_cli("--db", str(live.db), "users", "list", "--json", check=True).stdout.splitlines()}
    assert users["frank"]["keys"] == 1 and "gina" not in users
    live.assert_check_passes()


def test_a_key_file_without_end_is_refused_in_one_line(live: LiveDb) -> None:
    """The next thing to try after `--key missing.pub`: `--key /dev/zero` read without end, growing
    until it was killed. A key file is read only up to a bound, and the user is not created."""
    before = live.state()
    live.run("users", "add", "frank", "--role", "rep", "--key", "/dev/zero").assert_refused("/dev/zero",
                                                                                           "not a public key")
    live.run("users", "key", "add", "alice", "/dev/zero").assert_refused("not a public key")
    assert live.state() == before
    live.assert_check_passes()
