"""SQL written for sqlite3 (`?` and `:name` parameters) in psycopg's form (`%s`, `%(name)s`).

Translated once per SQL string (cached): the service layer's SQL runs unchanged on PostgreSQL where
it is portable. The scanner skips string literals, quoted identifiers, comments and `::` casts, and
doubles a literal `%` (psycopg would read it as a placeholder)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)
_DML = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Statement:
    sql: str            # in psycopg's form
    writes: bool        # INSERT / UPDATE / DELETE: its rowcount counts toward total_changes
    insert_into: str | None  # the table of an INSERT without RETURNING (lastrowid comes from RETURNING id)


def placeholders(sql: str) -> str:
    """`?` → `%s`, `:name` → `%(name)s`, `%` → `%%`, outside literals, identifiers and comments."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # '' or "" inside: an escaped quote
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1].replace("%", "%%"))
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == ":":
            if sql.startswith("::", i):
                out.append("::")
                i += 2
                continue
            m = _NAME.match(sql, i + 1)
            if m:
                out.append(f"%({m.group(0)})s")
                i = m.end()
            else:
                out.append(ch)
                i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@lru_cache(maxsize=2048)
def statement(sql: str, id_tables: frozenset[str]) -> Statement:
    """The psycopg form of `sql`, and what the connection adapter needs to know about it."""
    text = placeholders(sql)
    head = sql.lstrip()[:6].upper()
    writes = head in _DML
    insert_into = None
    m = _INSERT.match(sql)
    if m and m.group(1) in id_tables and not re.search(r"\bRETURNING\b", sql, re.I):
        insert_into = m.group(1)
    return Statement(text, writes, insert_into)
