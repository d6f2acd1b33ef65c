"""How PostgreSQL's rows and values reach the service layer as SQLite's do: rows indexable by position
and by column name (`keys()`, like sqlite3.Row), NUMERIC read as SQLite's numbers, booleans as 0/1.
Kept apart from the connection (db/pg/connection.py), which registers them on every session."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg.adapt import Dumper, Loader


class Row(tuple):
    """A result row, by position or by column name, like sqlite3.Row. One subclass per column list
    (`_row_class`), so a row carries no per-row mapping."""

    __slots__ = ()
    _index: dict[str, int] = {}
    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


_row_classes: dict[tuple[str, ...], type[Row]] = {}


def _row_class(names: tuple[str, ...]) -> type[Row]:
    cls = _row_classes.get(names)
    if cls is None:
        index: dict[str, int] = {}
        for i, n in enumerate(names):
            index.setdefault(n, i)  # sqlite3.Row gives the first of two equal names
        cls = type("Row", (Row,), {"__slots__": (), "_index": index, "_names": names})
        _row_classes[names] = cls
    return cls


_ROWS = (psycopg.pq.ExecStatus.TUPLES_OK, psycopg.pq.ExecStatus.SINGLE_TUPLE)


def _row_factory(cursor: psycopg.Cursor) -> Any:
    # the names straight off the result: `cursor.description` builds a Column object (and looks
    # up its type) for every column of every result, a third of a claim's client time. Only a result
    # that carries rows has names: a COPY's result counts its columns but names none
    res = cursor.pgresult
    if res is None or not res.nfields or res.status not in _ROWS:
        return tuple
    fname = res.fname
    return _row_class(tuple(fname(i).decode() for i in range(res.nfields)))


class _NumericAsSqlite(Loader):
    """NUMERIC (what SUM and AVG of BIGINT give) as SQLite gives such a result: an int when whole,
    else a float. Money is integer cents throughout, so no exact value passes through here."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        if "." in text or "e" in text or "E" in text or text in ("NaN", "Infinity", "-Infinity"):
            return float(text)
        return int(text)


class _BoolAsInt(Loader):
    """A boolean result (a comparison in a select list, EXISTS) as 1 or 0, as SQLite gives it."""

    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


class _BoolParamAsInt(Dumper):
    """A Python bool parameter as 1 or 0: flags are INTEGER columns on both backends."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"
