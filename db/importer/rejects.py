"""The rejects file: each rejected row with its row number and reason, written so that the rejects of
committed orders are on disk before those orders commit."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from core.intake import Reject
from db.connection import StoreError
from db.outputs import AtomicFile


class RejectsFile:
    """Rejected rows with their row number and reason, as CSV; created only when there is something to say.

    Written to a temp file beside the destination (db.outputs.AtomicFile), which replaces an earlier
    rejects file whole at the first `sync`; the path was checked by `db.outputs.guard`.
    `sync` puts what was written on disk, under its name, before each chunk's orders commit
    (Importer.commit_chunk), so the rejects of committed orders are never lost: if the file cannot be
    written, the chunk rolls back with it. A write failure names this file, never the input."""

    HEADER = ("row", "reason", "detail", "ref", "sku", "description", "qty", "unit_price", "customer", "received_at")
    #: how every rejects file begins: an existing file that begins so is ours to replace
    MARKER = ",".join(HEADER)

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._out: AtomicFile | None = None
        self._w: Any = None

    def write(self, rej: Reject) -> None:
        if self.path is None:
            return
        try:
            if self._out is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._out = AtomicFile(self.path, newline="")
                self._w = csv.writer(self._out.fh)
                self._w.writerow(self.HEADER)
            self._w.writerow((rej.row, rej.reason, rej.detail, *rej.raw))
        except OSError as e:
            raise self._failed(e) from None

    def sync(self) -> None:
        if self._out is None:
            return
        try:
            self._out.sync()
        except OSError as e:
            raise self._failed(e) from None

    def close(self) -> None:
        if self._out is not None:
            out, self._out = self._out, None
            try:
                out.publish()
            except OSError as e:
                raise self._failed(e) from None

    def _failed(self, e: OSError) -> StoreError:
        """A write failed: the half-written temp file is dropped, never renamed into place (a file placed
        by an earlier sync keeps what it holds: every row of the committed chunks), and the import stops."""
        if self._out is not None:
            out, self._out = self._out, None
            out.discard()
        why = f"cannot write the rejects file {self.path}: {e.strerror or e}"
        return StoreError(why, reason=why)
