"""A message with its parameters written in as SQL literals, exactly as psycopg's ClientCursor
writes them, for the claim's one message (db.pg.claim).

WHY not ClientCursor itself: the claim's transaction must reach the server as ONE simple query
(so the writer lock is held for server work only), so its parameters are literals in the text. The
ClientCursor builds them through its generic machinery (a query parse, a Transformer, a dumper
looked up per value) at ~3 us a parameter: with 13 of them, ~40 us of a claim's ~250 us of client
CPU, on the 2 cores that 16 claimers and the server share (bench/bench_pg_claim.py). Here the
message is split at its placeholders once (cached), and each value is quoted as psycopg's own
dumper for its type quotes it: text through libpq's PQescapeLiteral on this connection (what
psycopg's Dumper.quote calls), numbers as their str() (a space before a minus sign, so no `--`
can start a comment), NULL for None. Any other type, or text psycopg would refuse (a NUL
character), is quoted by psycopg itself (`sql.Literal`), so nothing is quoted differently.
tests/pg/test_pg_claims.py checks the result equals ClientCursor.mogrify's.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq, sql

_PLACEHOLDER = re.compile(rb"%\((\w+)\)s|%%")
_FLOAT_SPECIAL = {"inf": b"'Infinity'::float8", "-inf": b"'-Infinity'::float8", "nan": b"'NaN'::float8"}


@lru_cache(maxsize=128)
def _split(message: str) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """`message` (psycopg's `%(name)s` form) as the text between its placeholders, and their names."""
    raw = message.encode()
    chunks: list[bytes] = []
    names: list[str] = []
    part = bytearray()
    at = 0
    for m in _PLACEHOLDER.finditer(raw):
        part += raw[at:m.start()]
        at = m.end()
        if m.group(1) is None:  # %%: a literal %
            part += b"%"
            continue
        chunks.append(bytes(part))
        part = bytearray()
        names.append(m.group(1).decode())
    part += raw[at:]
    chunks.append(bytes(part))
    return tuple(chunks), tuple(names)


def bind(raw: psycopg.Connection, message: str, args: dict[str, Any]) -> bytes:
    """`message` with each `%(name)s` replaced by `args[name]` as a literal: a query to send as is."""
    chunks, names = _split(message)
    escape = pq.Escaping(raw.pgconn).escape_literal
    encoding = raw.info.encoding
    out = [chunks[0]]
    for name, chunk in zip(names, chunks[1:]):
        out.append(_literal(raw, escape, encoding, args[name]))
        out.append(chunk)
    return b"".join(out)


def _literal(raw: psycopg.Connection, escape: Any, encoding: str, value: Any) -> bytes:
    kind = type(value)
    if value is None:
        return b"NULL"
    if kind is str and "\x00" not in value:
        return bytes(escape(value.encode(encoding)))
    if kind is int:
        text = str(value).encode()
        return b" " + text if value < 0 else text
    if kind is float:
        if not math.isfinite(value):
            return _FLOAT_SPECIAL[str(value)]
        text = str(value).encode()
        return b" " + text if text.startswith(b"-") else text
    return sql.Literal(value).as_bytes(raw)  # anything else, as psycopg quotes it
