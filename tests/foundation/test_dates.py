"""Dates (issue 17 item 9): times outside 1970 … server clock + 1 day are refused with one line and exit 2,
and no stored time, however extreme, crashes a read (`order list`, `order show`, `unhold`, `kpi`)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.when import DUE_AHEAD, EARLIEST, check_window, from_epoch, parse_when, shift
from tests.conftest import connect_db, json_lines
from tests.prove.conftest import fingerprint

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NEW = ["order", "new", "--user", "alice", "--customer", "C00001", "--line", "BEV-0001:1"]


# ---- the window, in core -------------------------------------------------------------------
def test_the_window_is_1970_to_a_day_ahead() -> None:
    assert check_window(EARLIEST, NOW) == EARLIEST
    assert check_window(NOW + timedelta(days=1), NOW) == NOW + timedelta(days=1)
    for bad in (EARLIEST - timedelta(seconds=1), NOW + timedelta(days=1, seconds=1)):
        with pytest.raises(ValidationError, match="outside the accepted window"):
            check_window(bad, NOW, field="--received-at")
    assert parse_when("+300d", NOW, ahead=DUE_AHEAD) == NOW + timedelta(days=300)
    with pytest.raises(ValidationError):
        parse_when("+367d", NOW, ahead=DUE_AHEAD)


TYPED = st.one_of(
    st.text(max_size=40),
    st.builds(lambda sign, n, unit: f"{sign}{n}{unit}", st.sampled_from("+-"), st.integers(0, 10**14),
              st.sampled_from("smhd")),
    st.builds(lambda d, off: d.isoformat(timespec="minutes") + off, st.datetimes(),
              st.sampled_from(["", "Z", "+05:00", "-05:00", "+14:00"])),
)


@given(TYPED)
def test_parse_when_refuses_or_answers_inside_the_window(text: str) -> None:
    """Whatever is typed: a time inside the window, or a ValidationError; never OverflowError."""
    try:
        got = parse_when(text, NOW)
    except ValidationError:
        return
    assert EARLIEST <= got <= NOW + timedelta(days=1)


@given(st.one_of(st.floats(), st.integers(-10**30, 10**30).map(float)))
def test_any_stored_time_reads_back(seconds: float) -> None:
    t = from_epoch(seconds)
    assert t.tzinfo is not None
    assert shift(t, seconds) is not None and shift(t, -seconds) is not None
    assert t.isoformat()


# ---- the probe's inputs, through the real CLI ------------------------------------------------
@pytest.mark.parametrize("argv", [
    [*NEW, "--received-at=-99999999d"],
    [*NEW, "--received-at", "9999-12-31T22:30"],
    [*NEW, "--received-at", "1900-01-01"],
    [*NEW, "--received-at", "2099-01-01"],
    ["kpi", "--since", "0001-01-01T00:00+05:00"],
    ["kpi", "--until", "9999-12-31T23:59-05:00"],
    ["kpi", "--since=-99999999999d"],
    ["kpi", "--since", "+1d"],
    ["override", "OPEN", "--user", "sam", "--reason", "x", "--due=+99999999d"],
    ["override", "OPEN", "--user", "sam", "--reason", "x", "--due=+99999999999d"],
    ["override", "OPEN", "--user", "sam", "--reason", "x", "--due", "1969-12-31T23:00Z"],
    ["override", "OPEN", "--user", "sam", "--reason", "x", "--due", "+400d"],
    ["events", "--since", "99999999999999999999999"],
])
def test_out_of_window_times_are_one_line_exit_2(demo_db: Path, cli, argv: list[str]) -> None:
    if "OPEN" in argv:  # an order the override could change, so only the time can be the reason it is refused
        queued = cli("--db", str(demo_db), "order", "list", "--state", "queued", "--limit", "1", "--json", check=True)
        argv = [json_lines(queued.stdout)[0]["number"] if a == "OPEN" else a for a in argv]
    before = fingerprint(demo_db)
    p = cli("--db", str(demo_db), *argv)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert fingerprint(demo_db) == before


def test_simulate_refuses_a_binary_arrivals_file(db_path: Path, tmp_path: Path, cli) -> None:
    binary = tmp_path / "arrivals.bin"
    binary.write_bytes(bytes(range(256)) * 20)
    nul = tmp_path / "nul.csv"
    nul.write_text("received_at,priority\n\x00\x00,P1\n", encoding="utf-8")
    late = tmp_path / "late.csv"
    late.write_text("received_at,priority\n2999-01-01T00:00Z,P1\n", encoding="utf-8")
    for f in (binary, nul, late):
        p = cli("--db", str(db_path), "simulate", "--arrivals", str(f))
        assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_import_rows_outside_the_window_or_nested_too_deep_are_rejects(db_path: Path, tmp_path: Path, cli) -> None:
    f = tmp_path / "orders.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    rows = [{"order_ref": "A", "customer": "C1", "sku": "S-1", "qty": "1", "unit_price": "1.00",
             "received_at": "9999-12-31T22:30"},
            {"order_ref": "B", "customer": "C1", "sku": "S-1", "qty": "1", "unit_price": "1.00",
             "received_at": "1900-01-01T00:00"}]
    f.write_text(deep + "\n" + "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    p = cli("--db", str(db_path), "import", str(f), "--json", "--rejects", str(rejects))
    assert "Traceback" not in p.stderr, p.stderr
    s = json_lines(p.stdout)[-1]
    assert (s["orders"], s["rejects"], s["conserved"]) == (0, 3, True)
    text = rejects.read_text(encoding="utf-8")
    assert "nested too deeply" in text and text.count("outside the accepted window") == 2


RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def test_online_retail_and_northwind_rows_outside_the_window_are_rejects(db_path: Path, tmp_path: Path, cli,
                                                                         data_dir: Path) -> None:
    """The generic formats had the window; the two named ones did not: an online-retail InvoiceDate of
    9999-12-31 or 0001-01-01, or a Northwind orderDate/shippedDate/requiredDate of 9999, was imported as
    an order of that year. Each is a reject naming the window; a row inside it still imports."""
    retail = tmp_path / "retail.csv"
    retail.write_text(RETAIL_HEADER + "".join(
        f"{900000 + i},85123A,X,6,{d},2.55,17850,United Kingdom\n" for i, d in enumerate(
            ["9999-12-31 23:59:00", "0001-01-01 00:00:00", "1969-12-31 23:00:00", "2010-12-01 08:26:00"])),
        encoding="utf-8")
    rejects = tmp_path / "retail.rejects.csv"
    p = cli("--db", str(db_path), "import", str(retail), "--format", "online-retail", "--json", "--rejects", str(rejects))
    assert p.returncode == 0, p.stderr
    s = json_lines(p.stdout)[-1]
    assert (s["orders"], s["rejects"], s["conserved"]) == (1, 3, True)
    text = rejects.read_text(encoding="utf-8")
    assert text.count("outside the accepted window") == 3 and "InvoiceDate 0001-01-01T" in text
    nw = tmp_path / "nw"
    nw.mkdir()
    for f in (data_dir / "northwind").glob("*.csv"):
        (nw / f.name).write_bytes(f.read_bytes())
    lines = (nw / "orders.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    col = {name: header.index(name) for name in ("orderDate", "requiredDate", "shippedDate")}
    for n, name in ((1, "orderDate"), (2, "shippedDate"), (3, "requiredDate")):
        fields = lines[n].split(",")
        fields[col[name]] = "9999-01-01"
        lines[n] = ",".join(fields)
    (nw / "orders.csv").write_text("".join(lines), encoding="utf-8")
    nw_rejects = tmp_path / "nw.rejects.csv"
    p = cli("--db", str(db_path), "import", str(nw), "--format", "northwind", "--json", "--rejects", str(nw_rejects))
    assert p.returncode == 0, p.stderr
    text = nw_rejects.read_text(encoding="utf-8")
    for name in col:
        assert f"{name} 9999-01-01T00:00Z is outside the accepted window" in text
    c = connect_db(db_path)
    latest = max(c.execute("SELECT MAX(received_at), MAX(due_at), MAX(COALESCE(shipped_at, 0)) FROM orders").fetchone())
    c.close()
    assert from_epoch(latest).year < 3000


# ---- extreme stored values (raw SQL) never crash a read -------------------------------------------
def plant_extremes(db: Path) -> None:
    """What a pre-window database (or raw SQL) may hold: year 10000, ±1e300, ±inf, in every time column."""
    c = connect_db(db)
    c.execute("UPDATE orders SET state = 'on_hold', hold_reason = 'customer_info', hold_note = 'x', due_at = 1e300,"
              " hold_started_at = -1e18, received_at = -1e300, paused_s = 1e300, claimed_by = NULL, claim_token = NULL,"
              " lease_expires_at = NULL WHERE number = 'SO-000010'")
    c.execute("UPDATE orders SET state = 'on_hold', hold_reason = 'stock', hold_note = 'x', hold_started_at = 1e20,"
              " claimed_by = NULL, claim_token = NULL, lease_expires_at = NULL,"
              " due_at = 253402300800.0 + 86400 * 400, received_at = 253402297800.0 WHERE number = 'SO-000011'")
    c.execute("UPDATE orders SET state = 'queued', due_at = 9e999, received_at = -9e999, claimed_by = NULL,"
              " claim_token = NULL, lease_expires_at = NULL WHERE number = 'SO-000012'")
    c.execute("UPDATE orders SET state = 'released', released_at = 1e20, received_at = -1e20, due_at = -9e999,"
              " released_by = 'alice', claimed_by = NULL WHERE number = 'SO-000013'")
    c.commit()
    c.close()


def _no_infinity(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


@pytest.mark.sqlite_only("plants 9e999 (SQLite stores inf; PostgreSQL's double precision refuses the literal)")
def test_extreme_stored_times_read_back_everywhere(demo_db: Path, cli) -> None:
    plant_extremes(demo_db)
    db = ("--db", str(demo_db))
    listed = cli(*db, "order", "list", check=True).stdout
    assert all(n in listed for n in ("SO-000010", "SO-000011", "SO-000012", "SO-000013"))
    rows = {r["number"]: r for r in json_lines(cli(*db, "order", "list", "--json", check=True).stdout)}
    assert rows["SO-000011"]["due_at"].startswith("9999-") and rows["SO-000013"]["received_at"].startswith("0001-")
    for n in ("SO-000010", "SO-000011", "SO-000012", "SO-000013"):
        assert n in cli(*db, "order", "show", n, "--history", check=True).stdout
        assert json.loads(cli(*db, "order", "show", n, "--json", check=True).stdout)["number"] == n
    for n in ("SO-000010", "SO-000011"):
        cli(*db, "unhold", n, "--user", "sam", "--note", "back", check=True)
    cli(*db, "override", "SO-000012", "--user", "sam", "--reason", "x", "--priority", "P1", check=True)
    assert "KPIs for" in cli(*db, "kpi", check=True).stdout
    json.loads(cli(*db, "kpi", "--json", "--breakdown", check=True).stdout, parse_constant=_no_infinity)
    cli(*db, "claim", "--user", "alice", "--count", "50", check=True)
    cli(*db, "order", "list", check=True)
