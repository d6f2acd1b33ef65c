"""SQLite's side of `orderq copy` (db/copy.py): a snapshot to read, and a new file to fill.

Reading: one read transaction. In WAL mode its snapshot is fixed by its first read, writers carry on
meanwhile, and no checkpoint passes it, so every table is read as of one moment. Into PostgreSQL the
rows are read on a read-only connection of their own (SqliteSource). Into another file the source is
attached to the destination's connection instead (AttachedSource), and SQLite moves the rows itself:
`INSERT INTO main.t SELECT * FROM src.t` transfers records and index entries as stored, as VACUUM
does, with the destination's one transaction as the snapshot. (The backup API would copy pages, not
rows, and cannot write into PostgreSQL; `orderq backup` uses it.)

Writing: the file is made by the normal migrations (what `orderq init` runs) under a temp name
beside DEST, filled in one transaction without a journal (a failed copy deletes the temp file, so
there is nothing to roll back to, and each page is written once rather than to the WAL and then
again at the checkpoint), put on disk, and only then given DEST's name. A DEST that appeared
meanwhile is never overwritten (a hard link fails when the name exists).
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import ValidationError
from db import outputs
from db.connection import StoreError, connect, reason, uncounted
from db.copy import CopySummary, Progress, RowSource, Target, quote, run_copy, tables_of
from db.migrations import migrate
from db.store import open_readonly

#: page cache of the connection filling DEST (KiB): order_lines' indexes at 530k rows fit
CACHE_KIB = 128 * 1024


class SqliteSource(RowSource):
    """The source file read in one read transaction, opened read-only (it is never written)."""

    def __init__(self, path: str | Path) -> None:
        self.label = str(path)
        self.conn = open_readonly(path)  # refuses, untouched, a file that is not a current orderq database
        self.conn.row_factory = None
        self.conn.execute("BEGIN")  # deferred: the snapshot is taken by the first read, in tables()

    def _batches(self, table: str, columns: Sequence[str], size: int) -> Iterator[list[tuple[Any, ...]]]:
        cur = self.conn.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)} ORDER BY rowid")
        while rows := cur.fetchmany(size):
            yield rows

    def high_water(self) -> dict[str, int]:
        """AUTOINCREMENT's marks (the event log's): an id once used is never given again, even if the row is gone."""
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            return {}
        return {name: int(seq) for name, seq in self.conn.execute("SELECT name, seq FROM sqlite_sequence")}

    def close(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            pass
        self.conn.close()


def guard_file(dest: str, *, database: str | Path | None) -> Path:
    """DEST's real path if a copy may be written there: a new file, or an existing empty one (0 bytes);
    never the source itself (its real path, -wal, -shm: db/outputs.py). One line, exit 2, otherwise."""
    p = Path(dest)
    if p.is_file() and not p.is_symlink() and p.stat().st_size == 0:
        return outputs.not_data(dest, flag="copy", database=database)
    try:
        return outputs.guard(dest, flag="copy", database=database, what="empty database")
    except ValidationError as e:
        if "exists already" in e.message:  # the copy's own wording: it fills empty destinations only
            raise ValidationError(f"copy: {dest} is not empty; copy writes only into a new or empty file "
                                  "or an empty PostgreSQL database; nothing was written", field="copy") from None
        raise


class SqliteTarget:
    """A new SQLite file filled under a temp name, given DEST's name at `commit`."""

    def __init__(self, dest: Path, label: str, *, attach: str | Path | None = None) -> None:
        """`attach`: a source file to read through this connection, as schema `src` (copy_file)."""
        self.dest = dest
        self.label = label
        try:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".copy")
        except OSError as e:
            raise StoreError(f"copy: cannot write {label}: {e.strerror or e}; nothing was written") from None
        os.fchmod(fd, outputs._MODE)  # a database file as `orderq init` makes it (the umask's), not mkstemp's 0600
        os.close(fd)
        self.tmp = Path(tmp)
        self.conn: sqlite3.Connection | None = None
        self.indexes: list[tuple[str, str]] = []
        self.attached = attach is not None
        try:
            conn = self.conn = connect(self.tmp)
            with uncounted():  # a temp file, deleted on failure: not a write of the command's (cli.main)
                migrate(conn)  # the normal init: the same schema and migrations record as `orderq init`
            conn.row_factory = None
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")  # on disk before the rename instead (commit)
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # the indexes of a big table grow in memory, not by spills
            # foreign keys are checked once over the whole copy at commit (foreign_key_check), not per row
            conn.execute("PRAGMA foreign_keys=OFF")
            if attach is not None:
                conn.execute("ATTACH DATABASE ? AS src", (str(attach),))
            # deferred: this private file is locked when first written; an attached source is only ever
            # read (BEGIN IMMEDIATE would take the source's write lock too, for the whole copy)
            conn.execute("BEGIN")
            if attach is None:
                # rows written one by one: the indexes are built after them, each by one sort, rather than kept
                # up to date row by row (on the online-retail year: 13% less CPU). Their SQL as the migrations
                # wrote it is laid down again at commit, so the schema is exactly `orderq init`'s. (From an
                # attached file the index records are transferred as stored, as VACUUM does: AttachedSource.)
                self.indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                            "AND sql IS NOT NULL ORDER BY rowid").fetchall()
                for name, _sql in self.indexes:
                    conn.execute(f"DROP INDEX {quote(name)}")
        except BaseException:
            self.abort()
            raise

    def _conn(self) -> sqlite3.Connection:
        assert self.conn is not None
        return self.conn

    def tables(self) -> dict[str, list[str]]:
        return tables_of(self._conn())

    def parents(self) -> dict[str, set[str]]:
        conn = self._conn()
        return {t: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({quote(t)})")} for t in tables_of(conn)}

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        with self.writing(table):
            self._conn().executemany(f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES ({marks})",
                                     rows)

    @contextmanager
    def writing(self, table: str) -> Iterator[None]:
        """A row the new file refuses (one breaking a CHECK that was dropped on the PostgreSQL source behind
        the app's back) fails the copy in one line naming the table; run_copy then deletes the temp file."""
        try:
            yield
        except sqlite3.Error as e:
            raise StoreError(f"copy: writing {table} into {self.label} failed ({reason(e)}); "
                             f"nothing was written") from None

    def set_high_water(self, marks: dict[str, int]) -> None:
        """Raise each AUTOINCREMENT table's mark to the source's (inserting explicit ids already set it to the
        largest id copied); a table without AUTOINCREMENT gives max(id) + 1 next anyway."""
        conn = self._conn()
        auto = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND sql LIKE '%AUTOINCREMENT%'")}
        for table, seq in marks.items():
            if table not in auto:
                continue
            if conn.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (seq, table)).rowcount == 0:
                conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))

    def commit(self) -> None:
        conn = self._conn()
        try:
            for _name, sql in self.indexes:
                conn.execute(sql)
            # rows that came one by one (from PostgreSQL) are checked against their foreign keys once, here;
            # an attached file's are its own as stored, checked as they were written there (`orderq check`
            # checks them again on either side)
            broken = None if self.attached else conn.execute("PRAGMA main.foreign_key_check").fetchone()
            if broken:
                raise StoreError(f"copy refused: the source's table {broken[0]} row {broken[1]} points to a missing "
                                 f"{broken[2]} row; run `orderq check` on the source; nothing was written at {self.dest}")
            conn.execute("COMMIT")
            if conn.execute("SELECT 1 FROM pragma_database_list WHERE name = 'src'").fetchone():
                conn.execute("DETACH DATABASE src")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.close()
            self.conn = None
            outputs.fsync(self.tmp)
            self._place()
            outputs.fsync(self.dest.parent)
        except (sqlite3.Error, OSError) as e:
            why = f"{e.strerror or e}" if isinstance(e, OSError) else reason(e)
            raise StoreError(f"copy failed: {why}; nothing was written at {self.dest}") from None

    def _place(self) -> None:
        """The finished file under DEST's name: over the empty file that was there, or as a new name that
        must not exist yet (a file someone put there meanwhile is refused, not replaced)."""
        if self.dest.exists():
            if self.dest.stat().st_size != 0:
                raise StoreError(f"copy: {self.dest} was written by someone else while the copy ran; "
                                 "nothing was written")
            os.replace(self.tmp, self.dest)
            return
        try:
            os.link(self.tmp, self.dest)
        except FileExistsError:
            raise StoreError(f"copy: {self.dest} appeared while the copy ran; nothing was written") from None
        self.tmp.unlink()

    def abort(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
            self.conn = None
        for side in outputs.DATABASE_SUFFIXES:
            Path(f"{self.tmp}{side}").unlink(missing_ok=True)


class AttachedSource:
    """The source file attached to the destination's connection (schema `src`): SQLite moves the rows
    itself, `INSERT … SELECT` in chunks of rowids, with no row passing through Python (3× less CPU than
    reading and writing rows, on the online-retail year). One snapshot still: the destination's one
    transaction reads `src` from its first read to its COMMIT."""

    CHUNK = 50_000  # rows per INSERT … SELECT: a progress line's worth

    def __init__(self, target: SqliteTarget, label: str) -> None:
        self.target = target
        self.conn = target._conn()
        self.label = label

    def tables(self) -> dict[str, list[str]]:
        names = [r[0] for r in self.conn.execute("SELECT name FROM src.sqlite_master WHERE type = 'table'")
                 if not r[0].startswith("sqlite_") and r[0] != "_sqlite_migrations"]
        return {t: sorted(r[1] for r in self.conn.execute(f"PRAGMA src.table_info({quote(t)})")) for t in sorted(names)}

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM src.{quote(table)}").fetchone()[0])

    def _transferable(self, table: str) -> bool:
        """Whether SQLite can copy the table's records as stored, as VACUUM does (its "transfer optimisation"):
        the same columns in the same order on both sides, and no trigger on the destination table (the
        event log has its guard triggers, so it goes row by row)."""
        layout = [tuple(r)[1:] for r in self.conn.execute(f"PRAGMA main.table_info({quote(table)})")]
        return (layout == [tuple(r)[1:] for r in self.conn.execute(f"PRAGMA src.table_info({quote(table)})")]
                and not self.conn.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                          (table,)).fetchone())

    def stream(self, table: str, columns: Sequence[str], size: int, target: Target) -> Iterator[int]:
        if self._transferable(table):  # one statement, records as stored: 5× faster than row by row
            with self.target.writing(table):
                n = self.conn.execute(f"INSERT INTO main.{quote(table)} SELECT * FROM src.{quote(table)}").rowcount
            yield n
            return
        cols = ", ".join(map(quote, columns))
        last = -(1 << 63)
        while True:
            top = self.conn.execute(f"SELECT MAX(rowid) FROM (SELECT rowid FROM src.{quote(table)} WHERE rowid > ? "
                                    "ORDER BY rowid LIMIT ?)", (last, self.CHUNK)).fetchone()[0]
            if top is None:
                return
            with self.target.writing(table):
                n = self.conn.execute(f"INSERT INTO main.{quote(table)} ({cols}) SELECT {cols} FROM src.{quote(table)} "
                                      "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (last, top)).rowcount
            yield n
            last = top

    def high_water(self) -> dict[str, int]:
        if not self.conn.execute("SELECT 1 FROM src.sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            return {}
        return {name: int(seq) for name, seq in self.conn.execute("SELECT name, seq FROM src.sqlite_sequence")}

    def close(self) -> None:
        """The snapshot ends with the destination's transaction (SqliteTarget.commit or abort)."""


def copy_file(source: str | Path, dest: Path, label: str, progress: Progress | None) -> CopySummary:
    """SQLite file to SQLite file (db.copy.copy_database): the source attached to the destination's connection."""
    open_readonly(source).close()  # refuses, untouched, a file that is not a current orderq database
    target = SqliteTarget(dest, label, attach=source)
    return run_copy(AttachedSource(target, str(source)), target, progress)
