"""`orderq import` and `intake --watch` on a real PostgreSQL server, beside SQLite: the same files give
the same import summary, orders, returns, events and KPIs on both backends, and a bad file the same
one-line refusal (exit 2, nothing written). Real slices of the online-retail year (with cancellations
matched through the importer's private tables), the Northwind folder, and the generic csv / jsonl."""
from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import json_lines, run_cli
from tests.intake.conftest import Slices, session_data_dir, slices  # noqa: F401 - fixtures, shared with tests/intake
from tests.pg.test_pg_cli import _RANDOM, NOW
from tests.pg_server import PgServer

_SECONDS = re.compile(r'( in [0-9.]+ s\b|"seconds": [0-9.e-]+)')


def same(text: str) -> str:
    """Output with what differs on every run whatever the backend (claim tokens, hashes, timings) blanked."""
    return _SECONDS.sub("", _RANDOM.sub("", text))


@dataclass
class Desks:
    """One desk on each backend; every command runs on both and must print the same. An import's rejects
    go to a file of each desk's own (never into the repo, where the default would put them)."""

    url: str
    sqlite_db: Path

    def _rejects(self, name: str, args: tuple[str, ...]) -> tuple[str, ...]:
        if "import" not in args:
            return args
        return (*args, "--rejects", str(self.sqlite_db.parent / f"{name}-{len(list(self.sqlite_db.parent.glob('*.rejects.csv')))}.rejects.csv"))

    def pg(self, *args: str):  # noqa: ANN201
        return run_cli(*NOW, *self._rejects("pg", args), env={"ORDERQ_DB": self.url})

    def lite(self, *args: str):  # noqa: ANN201
        return run_cli("--db", str(self.sqlite_db), *NOW, *self._rejects("lite", args))

    def shown(self, text: str) -> str:
        """`text` with what differs by backend and by run blanked: the database's name, the rejects file's."""
        text = text.replace(self.url, "DB").replace(str(self.sqlite_db), "DB")
        return same(re.sub(r"\S*/(pg|lite)-[0-9]+\.rejects\.csv", "REJECTS", text))

    def both(self, *args: str, rc: int = 0) -> str:
        """Run `args` on both desks: the same exit code and output."""
        pg, lite = self.pg(*args), self.lite(*args)
        assert (pg.returncode, self.shown(pg.stderr), self.shown(pg.stdout)) == (
            lite.returncode, self.shown(lite.stderr), self.shown(lite.stdout)), args
        assert pg.returncode == rc, pg.stderr
        return pg.stdout


def _desks(pg_server: PgServer, folder: Path) -> Desks:
    d = Desks(pg_server.url(pg_server.new_database()), folder / "desk.db")
    d.both("init")
    return d


@pytest.fixture(scope="module")
def imported(pg_server: PgServer, slices: Slices, session_data_dir: Path,  # noqa: F811
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Desks, dict[str, str]]:
    """Both desks after: the online-retail mess as history (its cancellations become returns), the same
    file again (all skipped), the Northwind folder live, then a live order typed in and a generic csv."""
    d = _desks(pg_server, tmp_path_factory.mktemp("import-desks"))
    retail = slices.file("retail-mess.csv", slices.mess)
    out = {"retail": d.both("import", "--history", str(retail)),
           "again": d.both("import", "--history", str(retail), "--json"),
           "northwind": d.both("import", str(session_data_dir / "northwind"))}
    d.both("users", "add", "alice", "--role", "rep")
    # a live order takes the next id from the sequence on PostgreSQL: the import must have moved it on
    d.both("order", "new", "--customer", "ALFKI", "--line", "NW-1:2", "--user", "alice", "--json")
    folder = tmp_path_factory.mktemp("generic")
    f = folder / "orders.csv"
    with open(f, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([
            ("order_ref", "customer", "channel", "type", "sku", "qty", "unit_price", "discount", "received_at"),
            ("WEB-1", "ALFKI", "online", "standard", "NW-1", "2", "", "", "2026-11-26T08:00:00Z"),
            ("WEB-1", "ALFKI", "online", "standard", "NW-2", "1", "9.99", "10", ""),
            ("WEB-2", "NOBODY", "edi", "standard", "NW-1", "1", "", "", ""),
        ])
    j = folder / "more.jsonl"
    j.write_text(json.dumps({"order_ref": "EDI-9", "customer": "ALFKI", "channel": "edi", "sku": "NW-1", "qty": 4})
                 + "\nnot json\n")
    out["csv"] = d.both("import", str(f), "--json")
    out["jsonl"] = d.both("import", str(j), "--json")
    return d, out


def test_import_summaries_are_the_same_on_both_backends(imported: tuple[Desks, dict[str, str]]) -> None:
    _d, out = imported
    assert "every row accounted for" in out["retail"] and "returns 0 " not in out["retail"]
    again = json_lines(out["again"])[-1]
    assert (again["orders"], again["already_imported_orders"] > 0) == (0, True)
    assert "orders 830" in out["northwind"]
    assert (json_lines(out["csv"])[-1]["orders"], json_lines(out["jsonl"])[-1]["rejects"]) == (1, 1)


@pytest.mark.parametrize("command", [("order", "list", "--json"), ("order", "list", "--state", "shipped", "--limit", "100000", "--json"),
                                     ("kpi", "--json"), ("events", "--json"), ("return", "list", "--json"),
                                     ("check",)])
def test_after_the_imports_both_backends_print_the_same(imported: tuple[Desks, dict[str, str]],
                                                        command: tuple[str, ...]) -> None:
    d, _out = imported
    assert len(d.both(*command)) > 20


def test_a_live_order_after_an_import_takes_the_next_number(imported: tuple[Desks, dict[str, str]]) -> None:
    d, _out = imported
    numbers = [r["number"] for r in json_lines(d.pg("order", "list", "--state", "shipped", "--limit", "100000", "--json").stdout)]
    assert len(numbers) == len(set(numbers))


def _truncated_gz(folder: Path) -> Path:
    p = folder / "cut.csv.gz"
    whole = gzip.compress(b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                          + b"536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" * 2000)
    p.write_bytes(whole[: len(whole) // 2])
    return p


def _strict_reject(folder: Path) -> Path:
    p = folder / "strict.csv"
    p.write_text("order_ref,customer,sku,qty\nA-1,NOBODY,NW-1,1\n")
    return p


def _unknown_columns(folder: Path) -> Path:
    p = folder / "what.csv"
    p.write_text("colour,size\nred,9\n")
    return p


@pytest.mark.parametrize("bad", [_truncated_gz, _strict_reject, _unknown_columns],
                         ids=["truncated-gzip", "strict-reject", "unknown-columns"])
def test_a_bad_file_is_the_same_one_line_refusal_on_both_and_writes_nothing(
        pg_server: PgServer, tmp_path: Path, bad: Callable[[Path], Path]) -> None:
    d = _desks(pg_server, tmp_path)
    before = d.pg("events", "--json").stdout
    args = ("import", "--strict", str(bad(tmp_path)))
    pg, lite = d.pg(*args), d.lite(*args)
    assert (pg.returncode, d.shown(pg.stderr)) == (lite.returncode, d.shown(lite.stderr))
    assert pg.returncode == 2 and pg.stderr.count("\n") == 1 and "Traceback" not in pg.stderr
    assert d.pg("events", "--json").stdout == before


def test_intake_watch_imports_a_dropped_file_the_same_on_both(pg_server: PgServer, slices: Slices,  # noqa: F811
                                                              tmp_path: Path) -> None:
    d = _desks(pg_server, tmp_path)
    runs = []
    for name in ("pg", "lite"):
        folder = tmp_path / f"drop-{name}"
        folder.mkdir()
        slices.file(str(folder / "head.csv"), slices.head[:50])
        desk = d.pg if name == "pg" else d.lite
        proc = desk("intake", "--watch", str(folder), "--once", "--settle", "0", "--json")
        assert proc.returncode == 0, proc.stderr
        runs.append([{k: v for k, v in r.items() if k not in ("file", "seconds", "moved_to", "path", "rejects_file")}
                     for r in json_lines(proc.stdout)])
    assert runs[0] == runs[1] and runs[0]
    d.both("order", "list", "--json")
    d.both("events", "--json")


def test_a_cancellation_that_takes_back_from_two_orders_lists_them_alike(pg_server: PgServer, tmp_path: Path) -> None:
    """A cancellation matched against two earlier invoices (the most recent first) is one return over two
    orders: `return list` names them in the same order on both backends (the aggregate's own order is not
    defined: SQLite gave the later order first, PostgreSQL sorted)."""
    d = _desks(pg_server, tmp_path)
    f = tmp_path / "two-then-cancel.csv"
    f.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                 "536001,85123A,HEART,1,2010-12-01 08:00:00,2.55,17850,United Kingdom\n"
                 "536002,85123A,HEART,1,2010-12-02 08:00:00,2.55,17850,United Kingdom\n"
                 "C536003,85123A,HEART,-2,2010-12-03 08:00:00,2.55,17850,United Kingdom\n")
    d.both("import", "--history", str(f))
    listed = json_lines(d.both("return", "list", "--json"))
    assert [r["orders"] for r in listed] == [["SO-000001", "SO-000002"]]
