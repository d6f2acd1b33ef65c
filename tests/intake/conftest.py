"""Real slices of the online-retail file, cut once per session into tmp files (never into the repo)."""
from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

RETAIL = "online-retail/online_retail_full.csv.gz"
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def _invoices(path: Path) -> Iterator[list[list[str]]]:
    with io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        group: list[list[str]] = []
        for row in reader:
            if group and row[0] != group[0][0]:
                yield group
                group = []
            group.append(row)
        if group:
            yield group


def write_slice(path: Path, invoices: list[list[list[str]]]) -> Path:
    opener = (lambda p: io.TextIOWrapper(gzip.open(p, "wb"), encoding="utf-8", newline="")) if path.suffix == ".gz" \
        else (lambda p: open(p, "w", encoding="utf-8", newline=""))
    with opener(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for inv in invoices:
            w.writerows(inv)
    return path


@dataclass
class Slices:
    head: list[list[list[str]]]       # the first invoices of the year, as they come
    big: list[list[list[str]]]        # more of them, for the crash test
    mess: list[list[list[str]]]       # invoices showing each kind of known mess
    folder: Path

    def file(self, name: str, invoices: list[list[list[str]]]) -> Path:
        return write_slice(self.folder / name, invoices)


@pytest.fixture(scope="session")
def session_data_dir() -> Path:
    """The shared `data_dir` lookup, at session scope (the same places, the same skip)."""
    from tests.conftest import find_data_dir

    return find_data_dir()


@pytest.fixture(scope="session")
def slices(session_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Slices:
    """One pass over the first part of the file: the first 400 invoices, 3000 for the crash test, and
    invoices with negative non-C lines, charges and charge-only invoices. The A invoices are in August;
    they are read by a second, early-stopping scan."""
    head: list[list[list[str]]] = []
    big: list[list[list[str]]] = []
    neg: list[list[list[str]]] = []
    charges_only: list[list[list[str]]] = []
    data_dir = session_data_dir
    for n, inv in enumerate(_invoices(data_dir / RETAIL)):
        if n < 400:
            head.append(inv)
        if n < 3000:
            big.append(inv)
        if n >= 400:
            if len(neg) < 3 and not inv[0][0].startswith("C") and any(int(r[3]) < 0 for r in inv):
                neg.append(inv)
            if len(charges_only) < 2 and not inv[0][0].startswith("C") and all(
                    r[1].upper() in ("POST", "DOT", "M", "C2", "AMAZONFEE", "BANK CHARGES") for r in inv):
                charges_only.append(inv)
        if n >= 3000 and len(neg) >= 3 and len(charges_only) >= 2:
            break
    bad_debt: list[list[list[str]]] = []
    for inv in _invoices(data_dir / RETAIL):
        if inv[0][0].startswith("A"):
            bad_debt.append(inv)
            if len(bad_debt) == 3:
                break
    mess = head + neg + charges_only + bad_debt
    return Slices(head=head, big=big, mess=mess, folder=tmp_path_factory.mktemp("retail-slices"))
