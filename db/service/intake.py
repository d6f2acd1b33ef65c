"""Intake: bulk imports and the drop folder, behind the IMPORT permission (operator, supervisor, admin)."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

from core.errors import ValidationError
from core.permissions import Action
from db import dbapi
from db.connection import StoreError, translate
from db import outputs
from db.importer.source_files import EDI_SUFFIXES
from db.importer import CHUNK_INVOICES, ImportSummary, Progress, RejectsFile, run_import
from db.service.context import Context


def is_edi(path: Path, fmt: str) -> bool:
    """An EDI interchange: asked for, named so, or (auto) its first segment is ISA, UNA or UNB."""
    if fmt in ("x12", "edifact"):
        return True
    if fmt != "auto" or not path.is_file():
        return False
    if path.name.lower().endswith(EDI_SUFFIXES):
        return True
    from core.edi import detect_format

    try:
        with open(path, "rb") as fh:
            return detect_format(fh.read(64)) is not None
    except OSError:
        return False


class IntakeService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def import_file(self, path: str | Path, *, fmt: str = "auto", rejects: str | Path | None = None,
                    strict: bool = False, progress: Progress | None = None,
                    chunk: int = CHUNK_INVOICES, history: bool = False) -> ImportSummary:
        """Import one file; chunks commit on invoice boundaries, and a re-run skips what is already in."""
        self.ctx.require(Action.IMPORT, str(path))
        if is_edi(Path(path), fmt):
            from db.service.edi_intake import EdiIntake

            return EdiIntake(self.ctx).import_file(path, None if fmt == "auto" else fmt)  # type: ignore[return-value]
        conn = self.ctx.store.conn
        rejects_path = outputs.guard(rejects, flag="--rejects", database=self.ctx.store.path, inputs=[path],
                                     marker=RejectsFile.MARKER, what="rejects file") if rejects else None
        try:
            return run_import(conn, Path(path), fmt=fmt, rules=self.ctx.rules, now=self.ctx.now(),
                              actor=self.ctx.actor.name, rejects_path=rejects_path,
                              strict=strict, progress=progress, chunk=chunk, history=history)
        except (csv.Error, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
            raise ValidationError(f"{Path(path).name}: cannot read it: {e}; invoices committed before this point stay "
                                  "(a re-run resumes)", field="file") from None
        except dbapi.Error as e:
            raise translate(e) from None
        except OSError as e:
            raise StoreError(f"cannot read {path}: {e.strerror or e}") from None
