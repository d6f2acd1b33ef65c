"""`orderq copy DEST`: move a desk (db.copy), with progress on stderr."""
from __future__ import annotations

import argparse
import sys
import time

from cli.common import db_path, emit_json
from db.copy import copy_database

#: at most one progress line per table this often, plus one when each table is done
PROGRESS_EVERY_S = 0.5


class Progress:
    """`copy: TABLE ROWS of TOTAL rows` on stderr: each table's start and end, and every half second between."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done in (0, total) or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            print(f"copy: {table} {done:,} of {total:,} rows", file=sys.stderr, flush=True)


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("copy", parents=[parent],
                       help="consistent copy of the whole database into an empty SQLite file or PostgreSQL database")
    p.add_argument("dest", help="a new (or empty) SQLite file, or a postgresql:// URL of an empty database")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_copy)


def cmd_copy(args: argparse.Namespace) -> int:
    summary = copy_database(db_path(args), args.dest, Progress())
    if args.json:
        emit_json(summary.as_json())
    else:
        rate = f" ({summary.rows / summary.seconds:,.0f} rows/s)" if summary.seconds else ""
        print(f"copied {summary.rows:,} rows in {len(summary.tables)} tables from {summary.source} to {summary.dest} "
              f"in {summary.seconds:.1f} s{rate}")
    return 0
