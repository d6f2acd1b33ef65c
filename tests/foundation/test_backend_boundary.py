"""The backend boundary (SPEC §1, issue 18 §2): what differs between SQLite and PostgreSQL lives in one
place per backend. Outside the files named here as the SQLite backend (each with why) and db/pg/ (the
PostgreSQL backend), no module imports sqlite3, calls a sqlite3-only connection method, or holds
SQLite-only SQL (PRAGMA, BEGIN IMMEDIATE, sqlite_master, WITHOUT ROWID, json_extract…). Type hints and
`except` clauses use db.dbapi's neutral names instead.

Read from the source with `ast`, so docstrings and comments may talk about SQLite freely: only code and
the SQL in its string literals count."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("core", "db", "tui", "cli", "api")

#: the PostgreSQL backend: everything under it may name its own engine's SQL
PG_BACKEND = "db/pg/"

#: the SQLite backend, file by file, with what each does that only SQLite has
SQLITE_BACKEND = {
    "db/connection.py": "SQLite connections: WAL and busy-timeout PRAGMAs, BEGIN IMMEDIATE write transactions",
    "db/store.py": "opens a SQLite file (refusing another application's: sqlite_master) or hands a URL to db/pg",
    "db/migrations.py": "SQLite's migrations (db/pg/schema.py holds PostgreSQL's twins)",
    "db/migration_steps/desk_growth.py": "m500 reads the events table's columns with PRAGMA table_info",
    "db/dialect.py": "SQLite's SQL fragments; db/pg/dialect.py subclasses them",
    "db/dbapi.py": "the neutral names, defined once as sqlite3's classes (the PostgreSQL adapter raises those)",
    "db/backup.py": "`orderq backup`: SQLite's online backup API (PostgreSQL: pg_dump)",
    "db/check.py": "`orderq check`'s integrity step: PRAGMA integrity_check / foreign_key_check",
    "db/check_headers.py": "check's header snapshot check in SQLite's JSON functions (db/pg/check.py: jsonb)",
    "db/check_audit.py": "the audit log's guard triggers as sqlite_master holds them (db/pg/check.py: pg_trigger)",
    "db/event_chain.py": "the event log's head from sqlite_sequence (the dialect's event_seq on PostgreSQL)",
    "db/feed_sqlite.py": "the change feed's SQLite detection: inotify on the -wal file and PRAGMA data_version",
    "db/inotify.py": "the -wal file watch of SQLite's change detection",
    "db/checkpoints.py": "the API's WAL checkpoints on a thread of their own (PostgreSQL has no WAL of ours)",
    "db/copy_sqlite.py": "`orderq copy`'s SQLite side: sqlite_master, sqlite_sequence, ATTACH and PRAGMAs",
}

#: files other branches are converting right now (issue 18): each must still have a finding, so an entry
#: is removed the moment its file is clean
IN_FLIGHT = {
}

#: SQL that only SQLite runs (in string literals, docstrings aside)
SQLITE_SQL = re.compile(
    r"\bPRAGMA\b|\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b|\bsqlite_(master|schema|sequence)\b|\bWITHOUT\s+ROWID\b"
    r"|\bINSERT\s+OR\s+(REPLACE|IGNORE|ABORT|FAIL|ROLLBACK)\b|\b(json_extract|json_each|group_concat|julianday|ifnull"
    r"|instr|printf)\s*\(|\btemp\.[a-z_]", re.I)
#: sqlite3-only connection methods
SQLITE_METHODS = {"create_function", "create_aggregate", "create_collation", "iterdump", "enable_load_extension",
                  "set_authorizer", "set_progress_handler", "blobopen"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def findings(path: Path) -> list[str]:
    """Every use of sqlite3 or SQLite-only SQL in one module, as `line: what`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
            found.append(f"{node.lineno}: import sqlite3")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            found.append(f"{node.lineno}: from sqlite3 import")
        elif isinstance(node, ast.Attribute) and node.attr in SQLITE_METHODS:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            m = SQLITE_SQL.search(node.value)
            if m:
                found.append(f"{node.lineno}: {m.group(0)!r}")
    return sorted(found, key=lambda f: int(f.split(':')[0]))


def _modules() -> dict[str, Path]:
    return {str(p.relative_to(REPO)): p for layer in LAYERS for p in sorted((REPO / layer).rglob("*.py"))}


def test_no_sqlite_outside_the_sqlite_backend() -> None:
    bad = {name: f for name, p in _modules().items()
           if not name.startswith(PG_BACKEND) and name not in SQLITE_BACKEND and name not in IN_FLIGHT
           and (f := findings(p))}
    assert bad == {}, "SQLite-only code outside the SQLite backend (use db.dbapi / db.dialect): " + str(bad)


def test_files_in_flight_are_listed_only_while_they_still_need_it() -> None:
    modules = _modules()
    clean = [name for name in IN_FLIGHT if name in modules and not findings(modules[name])]
    assert clean == [], f"clean now: remove from IN_FLIGHT: {clean}"


def test_the_scan_sees_what_it_is_for(tmp_path: Path) -> None:
    """The scan itself: an import, a PRAGMA in SQL and a sqlite3-only method are found; the same words in
    a docstring or a comment are not."""
    p = tmp_path / "m.py"
    p.write_text('"""Uses PRAGMA data_version and BEGIN IMMEDIATE, in words."""\n'
                 "import sqlite3  # PRAGMA\n"
                 "def f(c):\n"
                 '    """sqlite_master, in words."""\n'
                 '    c.execute("PRAGMA cache_size")\n'
                 '    c.execute(f"SELECT name FROM sqlite_master WHERE x = {1}")\n'
                 '    c.create_function("f", 1, len)\n')
    assert findings(p) == ["2: import sqlite3", "5: 'PRAGMA'", "6: 'sqlite_master'", "7: .create_function"]
