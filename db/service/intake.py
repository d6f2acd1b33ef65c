"""Intake: bulk imports and the drop folder, behind the IMPORT permission (operator, supervisor, admin)."""
from __future__ import annotations

from pathlib import Path

from core.permissions import Action
from db.connection import StoreError
from db.importer import CHUNK_INVOICES, ImportSummary, Progress, run_import
from db.service.context import Context


class IntakeService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def import_file(self, path: str | Path, *, fmt: str = "auto", rejects: str | Path | None = None,
                    strict: bool = False, progress: Progress | None = None,
                    chunk: int = CHUNK_INVOICES) -> ImportSummary:
        """Import one file; chunks commit on invoice boundaries, and a re-run skips what is already in."""
        self.ctx.require(Action.IMPORT, str(path))
        conn = self.ctx.store.conn
        try:
            return run_import(conn, Path(path), fmt=fmt, rules=self.ctx.rules, now=self.ctx.now(),
                              actor=self.ctx.actor.name, rejects_path=Path(rejects) if rejects else None,
                              strict=strict, progress=progress, chunk=chunk)
        except OSError as e:
            raise StoreError(f"cannot read {path}: {e.strerror or e}") from None
