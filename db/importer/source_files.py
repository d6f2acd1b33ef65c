"""Reading the import's source files: which format a file is, and streaming it (gzip read directly, never
loaded whole), with the byte count the progress bar shows."""
from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.errors import ValidationError
from core.intake import RETAIL_COLUMNS

#: the file names an import reads (Northwind is a folder); the drop folder takes nothing else
FILE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".csv.gz", ".jsonl.gz", ".ndjson.gz")
#: EDI interchanges (db/service/edi_intake.py reads them)
EDI_SUFFIXES = (".x12", ".edi", ".edifact", ".850")


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "orders.csv").exists() and (path / "order-details.csv").exists():
            return "northwind"
        raise ValidationError(f"{path} is a folder but not a Northwind export (orders.csv, order-details.csv)",
                              field="format")
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    with open_text(path) as fh:
        head = fh.readline()
    cols = [c.strip().lstrip("\ufeff") for c in head.split(",")]
    if cols[:2] == ["InvoiceNo", "StockCode"]:
        return "online-retail"
    if "order_ref" in cols:
        return "csv"
    raise ValidationError(f"cannot tell the format of {path.name}; pass --format", field="format")


def open_text(path: Path) -> IO[str]:
    """utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark, which would else
    stick to the first column's name (so `order_ref` went missing)."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


class Counting(io.RawIOBase):
    """Counts the bytes read from the file on disk (compressed), for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.done += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def first_fields(path: Path) -> Iterator[str]:
    """Pass 1's fast read: the first field of each physical line, after the header (3× faster than csv).

    A record that spans lines (a quoted newline) only adds a bogus key between two runs, which makes its
    invoice look scattered: then it is parked and handed on whole at the end, still one order."""
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[assignment]
    with io.BufferedReader(raw, 1 << 20) as fh:  # type: ignore[arg-type]
        next(fh, None)
        for line in fh:
            yield line.split(b",", 1)[0].strip().strip(b'"').decode("utf-8", "replace")


@contextmanager
def retail_rows(path: Path) -> Iterator[tuple[Iterator[tuple[int, list[str]]], Counting]]:
    """The file's data rows with their line numbers, streamed (the header checked first)."""
    counting = Counting(open(path, "rb"))
    buffered = io.BufferedReader(counting, 1 << 20)
    binary: IO[bytes] = gzip.GzipFile(fileobj=buffered) if path.suffix == ".gz" else buffered  # type: ignore[assignment]
    with io.TextIOWrapper(binary, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        if tuple(header) != RETAIL_COLUMNS:
            raise ValidationError(f"{path.name}: not the online-retail layout (expected {','.join(RETAIL_COLUMNS)})",
                                  field="format")
        yield ((reader.line_num, fields) for fields in reader), counting
