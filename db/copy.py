"""`orderq copy DEST`: the whole database, event log included, into an empty database of either kind.

WHY a copy and not a dump: moving a desk from SQLite to PostgreSQL (or back, or to a new file)
must keep every id, so the event log's hash chain, claim tokens and `events --since` cursors mean
the same on the destination, and it must run while sessions keep working on the source.

How, backend-neutral (the backends' own parts are in db/copy_sqlite.py and db/pg/copy.py, one
place each):
- the destination must be empty (a new or 0-byte file; a database with no tables); its schema is
  made by its backend's normal migrations (`orderq init`), so the schema version is the same;
- the source is read in ONE snapshot (SQLite: one read transaction; PostgreSQL: REPEATABLE READ
  READ ONLY), so the copy is the source as of one moment however much is committed meanwhile;
- tables are copied parents first (foreign keys, from the destination's catalog), rows in
  primary-key order, in batches, with the same column names on both sides (file to file, SQLite
  moves the rows itself: db/copy_sqlite.py);
- each id sequence is set to the source's high-water mark as of the snapshot, so the next event
  or order on the destination takes the id the source would have given it;
- all of it is one transaction on the destination (a PostgreSQL database: schema and rows;
  a SQLite file: written under a temp name and renamed when complete), so a failure leaves the
  destination as it was: nothing written.
"""
from __future__ import annotations

import graphlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from db.connection import StoreError
from db.store import is_url, shown

#: rows per batch read from the source and written to the destination
BATCH = 5000

Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in the table)


class Source(Protocol):
    """A snapshot of the source database, open until `close`."""

    label: str  # how messages name it (a URL without its password)

    def tables(self) -> dict[str, list[str]]: ...  # table -> columns, orderq's data tables only
    def count(self, table: str) -> int: ...
    def stream(self, table: str, columns: Sequence[str], size: int, target: "Target") -> Iterator[int]: ...
    # ^ writes the table's rows into `target` batch by batch, yielding each batch's row count
    def high_water(self) -> dict[str, int]: ...  # table -> the largest id ever handed out, as of the snapshot
    def close(self) -> None: ...


class Target(Protocol):
    """An empty destination being filled inside one transaction; nothing is visible before `commit`."""

    label: str

    def tables(self) -> dict[str, list[str]]: ...  # as made by the destination's own migrations
    def parents(self) -> dict[str, set[str]]: ...  # table -> the tables its foreign keys point to
    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None: ...
    def set_high_water(self, marks: dict[str, int]) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


@dataclass
class CopySummary:
    source: str
    dest: str
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "dest": self.dest, "tables": self.tables, "rows": self.rows,
                "seconds": round(self.seconds, 3), "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
                "ok": True}


def quote(name: str) -> str:
    """An identifier quoted alike for both backends ("user" is a column name)."""
    return '"' + name.replace('"', '""') + '"'


def tables_of(conn: Any) -> dict[str, list[str]]:
    """orderq's tables and their columns on `conn`, either backend (its bookkeeping left out: db.dialect)."""
    from db import dialect

    d = dialect.of(conn)
    return {t: sorted(d.columns(conn, t)) for t in sorted(d.tables(conn))}


class RowSource:
    """What the two row-reading sources share (db/copy_sqlite.py, db/pg/copy.py): each opens `conn` in its
    snapshot and says how to read a table's rows in batches (`_batches`)."""

    conn: Any
    label: str

    def tables(self) -> dict[str, list[str]]:
        return tables_of(self.conn)

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {quote(table)}").fetchone()[0])

    def stream(self, table: str, columns: Sequence[str], size: int, target: Target) -> Iterator[int]:
        return pipe(self._batches(table, columns, size), target, table, columns)

    def _batches(self, table: str, columns: Sequence[str], size: int) -> Iterator[list[tuple[Any, ...]]]:
        raise NotImplementedError


def pipe(batches: Iterator[list[tuple[Any, ...]]], target: Target, table: str, columns: Sequence[str]) -> Iterator[int]:
    """`Source.stream` for a source that reads rows: each batch read is written to `target`."""
    try:
        for rows in batches:
            target.write(table, columns, rows)
            yield len(rows)
    finally:  # a failed write ends the read here, while the source's connection is still open
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def copy_order(parents: dict[str, set[str]], tables: Sequence[str]) -> list[str]:
    """`tables` with every table after the tables its foreign keys point to (ties alphabetical)."""
    graph = graphlib.TopologicalSorter()
    for t in sorted(tables):
        graph.add(t, *sorted(p for p in parents.get(t, ()) if p != t and p in tables))
    return list(graph.static_order())


def same_schema(src: dict[str, list[str]], dst: dict[str, list[str]], *, source: str) -> None:
    """Refuse (nothing written) when the two schemas differ: the copy keeps every column or none."""
    missing = sorted(set(src) ^ set(dst))
    if missing:
        raise StoreError(f"copy: {source} and the destination have different tables ({', '.join(missing[:3])}); "
                         "run `orderq init` on the source first; nothing was written")
    for t, cols in src.items():
        if set(cols) != set(dst[t]):
            odd = sorted(set(cols) ^ set(dst[t]))
            raise StoreError(f"copy: table {t} has different columns on the two sides ({', '.join(odd[:3])}); "
                             "run `orderq init` on the source first; nothing was written")


def run_copy(source: Source, target: Target, progress: Progress | None = None, *, batch: int = BATCH) -> CopySummary:
    """Copy everything in `source`'s snapshot into `target` and commit; on any failure abort (nothing written)."""
    summary = CopySummary(source.label, target.label)
    try:
        src_tables = source.tables()
        same_schema(src_tables, target.tables(), source=source.label)
        order = copy_order(target.parents(), list(src_tables))
        totals = {t: source.count(t) for t in order}
        for t in order:
            cols = src_tables[t]
            done = 0
            if progress:
                progress(t, 0, totals[t])
            stream = source.stream(t, cols, batch, target)
            try:
                for n in stream:
                    done += n
                    if progress:
                        progress(t, done, totals[t])
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            if done != totals[t]:  # one snapshot: the count and the rows read cannot differ
                raise StoreError(f"copy: {t}: read {done} rows of {totals[t]} counted in the same snapshot; "
                                 "nothing was written")
            summary.tables[t] = done
        target.set_high_water(source.high_water())
        target.commit()
    except BaseException:
        target.abort()
        raise
    finally:
        source.close()
    return summary


def copy_database(source: str, dest: str, progress: Progress | None = None) -> CopySummary:
    """`orderq copy`: `source` (the --db path or URL) into the empty `dest` (a SQLite path or a PostgreSQL URL).

    Every refusal (DEST not empty, DEST is the source, the source not an orderq database, a URL of an
    unknown scheme) comes before anything is written, as one StoreError or ValidationError line."""
    t0 = time.perf_counter()
    summary = _copy(source, dest, progress)
    summary.seconds = time.perf_counter() - t0  # the whole of it: opening, the destination's schema, rows, commit
    return summary


def _copy(source: str, dest: str, progress: Progress | None) -> CopySummary:
    src_pg, dst_pg = is_url(source), is_url(dest)
    real = None
    if not dst_pg:
        from db.copy_sqlite import guard_file

        real = guard_file(dest, database=None if src_pg else source)
    if not src_pg and not dst_pg:  # file to file: SQLite copies the rows itself (db/copy_sqlite.py)
        from db.copy_sqlite import copy_file

        assert real is not None
        return copy_file(source, real, shown(dest), progress)
    if src_pg:
        from db.pg.copy import PgSource

        src: Source = PgSource(source)
    else:
        from db.copy_sqlite import SqliteSource

        src = SqliteSource(source)
    try:
        if dst_pg:
            from db.pg.copy import PgTarget

            target: Target = PgTarget(dest, source=src)
        else:
            from db.copy_sqlite import SqliteTarget

            assert real is not None
            target = SqliteTarget(real, shown(dest))
    except BaseException:
        src.close()
        raise
    return run_copy(src, target, progress)
