"""Bulk intake: online-retail (UCI), Northwind, and the generic csv / jsonl formats.

Files are streamed (gzip read directly, never loaded whole: db.importer.source_files). Writes go through
`Bulk` (db.importer.bulk), in chunks of CHUNK_INVOICES invoices that end on invoice boundaries; re-running
an import skips every source_ref already present, so the committed chunks are a resumable checkpoint and a
crash never leaves half an invoice (db.importer.accounting). Each format has its reader:
db.importer.online_retail, db.importer.northwind, db.importer.generic. What a run read and where each row
ended is its ImportSummary (db.importer.summary); rejected rows go to the RejectsFile (db.importer.rejects).
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import ValidationError
from core.rules import Rules
from db import dbapi
from db.connection import StoreError
from db.dialect import of
from db.importer.accounting import CHUNK_INVOICES, Importer, Progress
from db.importer.generic import import_generic
from db.importer.northwind import import_northwind
from db.importer.online_retail import UK, import_online_retail
from db.importer.rejects import RejectsFile
from db.importer.source_files import FILE_SUFFIXES, detect_format
from db.importer.summary import ImportSummary

__all__ = ["CHUNK_INVOICES", "FILE_SUFFIXES", "FORMATS", "UK", "ImportSummary", "Progress", "RejectsFile",
           "run_import"]

FORMATS = ("auto", "csv", "jsonl", "online-retail", "northwind", "x12", "edifact")


def _quiet_close(rejects: RejectsFile) -> None:
    """Close the rejects file on the way out of a failure that is already being reported."""
    try:
        rejects.close()
    except StoreError:
        pass


def run_import(conn: Any, path: Path, *, fmt: str = "auto", rules: Rules, now: datetime, actor: str,
               rejects_path: Path | None = None, strict: bool = False, progress: Progress | None = None,
               chunk: int = CHUNK_INVOICES, history: bool = False) -> ImportSummary:
    """Import one file (or Northwind folder). Strict: any reject refuses the whole file and writes nothing.
    History: the file records completed sales (see `Importer.order`), not work for the queue."""
    if not path.exists():
        raise ValidationError(f"no such file: {path}", field="file")
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r} ({', '.join(FORMATS)})", field="format")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "northwind" and not path.is_dir():
        raise ValidationError(f"--format northwind takes the folder of Northwind CSV files, not {path.name}",
                              field="format")
    summary = ImportSummary(file=str(path), format=fmt, rejects_file=str(rejects_path) if rejects_path else None,
                            history=history)
    rejects = RejectsFile(rejects_path)
    imp = Importer(conn, rules=rules, now=now, actor=actor, rejects=rejects, summary=summary, strict=strict,
                   progress=progress, chunk=chunk, history=history)
    t0 = time.perf_counter()
    with of(conn).bulk_cache(conn):
        _run(imp, path, fmt, now, rejects)
    summary.customers_created = imp.bulk.customers_created
    summary.addresses_created = imp.bulk.addresses_created
    summary.contacts_created = imp.bulk.contacts_created
    summary.products_created = imp.bulk.products_created
    if summary.rejects == 0:
        summary.rejects_file = None
    summary.seconds = time.perf_counter() - t0
    return summary


def _run(imp: Importer, path: Path, fmt: str, now: datetime, rejects: RejectsFile) -> None:
    """Read the file through its format's reader and commit it in chunks; a failure rolls back the chunk
    in flight (the committed ones stay: a re-run resumes) and is one refusal saying how far it got."""
    summary = imp.s
    imp.bulk.begin()
    try:
        if fmt == "online-retail":
            import_online_retail(imp, path)
        elif fmt == "northwind":
            import_northwind(imp, path)
        else:
            import_generic(imp, path, fmt, now)
        if imp.strict and imp.first_reject is not None:
            r = imp.first_reject
            raise ValidationError(f"--strict: {summary.rejects} row(s) rejected, nothing imported; first: row {r.row}: "
                                  f"{r.reason}: {r.detail}", field="file")
        if summary.orders or summary.returns or imp.bulk.customers_created or imp.bulk.products_created:
            imp.bulk.event("import", None, path.name, "imported", {
                "format": fmt, "rows_read": summary.rows_read, "orders": summary.orders, "returns": summary.returns,
                "rejects": summary.rejects, "history": imp.history})
        imp.commit_chunk()
        rejects.close()
    except (dbapi.Error, OSError, StoreError) as e:  # StoreError: the rejects file could not be written
        imp.bulk.rollback()
        raise imp.stopped(e, path) from None
    except BaseException:
        imp.bulk.rollback()
        raise
    finally:
        _quiet_close(rejects)
        imp.bulk.close()
