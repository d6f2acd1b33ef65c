"""Whole invoices from a file whose rows may come in any order, in two streaming passes.

An invoice is one complete order whatever order its rows come in, but holding a whole file to
group it would break the import's bounded memory. So:
- pass 1 reads only each row's key (the invoice number) and counts, per key, its runs of
  consecutive rows; only the keys with more than one run are kept (`scattered_keys`);
- pass 2 (`Assembler.groups`) streams the file again. A run whose key is not scattered — the
  usual case — goes straight on. The runs of a scattered key are parked in a temp table on the
  import's own connection (SQLite spills it to disk, so memory stays bounded however scattered a
  file is) until its last run has been read; then the whole invoice goes on at once, rows in file
  order.
Nothing is parked across runs of the import: a crash loses only the temp table, and the re-run
starts both passes again (committed invoices are skipped by their source_ref).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from db.dbapi import Connection
from db.dialect import of

Row = tuple[int, Any]  # (row number in the file, the row as read)

#: {temp}, {clustered}: the dialect's private-table schema and key-ordered storage (db.dialect)
_DDL = ("DROP TABLE IF EXISTS {temp}intake_parked",
        "CREATE TEMP TABLE intake_parked (key TEXT NOT NULL, row INTEGER NOT NULL, payload TEXT NOT NULL,"
        " PRIMARY KEY (key, row)){clustered}")


def scattered_keys(keys: Iterable[str | None]) -> dict[str, int]:
    """Pass 1: key -> number of runs, for the keys whose rows are not all consecutive (None: no key)."""
    runs: dict[str, int] = {}
    last: object = object()
    for k in keys:
        if k != last:
            last = k
            if k is not None:
                runs[k] = runs.get(k, 0) + 1
    return {k: n for k, n in runs.items() if n > 1}


def runs(rows: Iterable[Row], key: Callable[[Any], str | None]) -> Iterator[tuple[str | None, list[Row]]]:
    """Consecutive rows with the same key, with that key."""
    group: list[Row] = []
    last: str | None = None
    for item in rows:
        k = key(item[1])
        if group and k != last:
            yield last, group
            group = []
        last = k
        group.append(item)
    if group:
        yield last, group


class Assembler:
    """Pass 2: hands on every key's rows as one group, parking the runs of scattered keys until complete."""

    def __init__(self, conn: Connection, scattered: dict[str, int]) -> None:
        self.conn = conn
        d = of(conn)
        self.table = f"{d.temp}intake_parked"
        self.left = dict(scattered)  # runs still to come, per scattered key
        if self.left:
            for stmt in _DDL:
                conn.execute(stmt.format(temp=d.temp, clustered=d.clustered))

    def groups(self, rows: Iterable[Row], key: Callable[[Any], str | None]) -> Iterator[list[Row]]:
        for k, run in runs(rows, key):
            if k is None or k not in self.left:
                yield run
                continue
            self.left[k] -= 1
            if self.left[k] == 0:
                yield sorted(self._take(k) + run, key=lambda r: r[0])
            else:
                self.conn.executemany(f"INSERT INTO {self.table} VALUES (?,?,?)",
                                      [(k, n, json.dumps(payload)) for n, payload in run])
        # a file that changed between the passes: whatever is still parked goes on as it is, never lost
        for k in list(self.left):
            parked = self._take(k)
            if parked:
                yield parked

    def _take(self, k: str) -> list[Row]:
        """The parked rows of a key, in file order, unparked."""
        del self.left[k]
        parked = [(n, json.loads(p)) for n, p in self.conn.execute(
            f"SELECT row, payload FROM {self.table} WHERE key = ? ORDER BY row", (k,))]
        self.conn.execute(f"DELETE FROM {self.table} WHERE key = ?", (k,))
        return parked

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
