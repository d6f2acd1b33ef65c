"""Command-line input (issue 12 §3): negative relative times as separate arguments, valid-value lists,
a capped `claim --count`, help on every option, no TUI keys in CLI errors, `--customer 3` like the TUI."""
from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import build_parser
from cli.orders import MAX_CLAIM_COUNT
from tests.conftest import json_lines
from tests.prove.conftest import fingerprint


def test_negative_relative_due_as_a_separate_argument(demo_db: Path, cli) -> None:
    db = ("--db", str(demo_db))
    number = json_lines(cli(*db, "order", "list", "--state", "queued", "--json", "--limit", "1", check=True).stdout)[0]["number"]
    before = datetime.now(UTC).replace(microsecond=0)
    cli(*db, "override", number, "--user", "sam", "--reason", "customer called", "--due", "-30m", check=True)
    after = datetime.now(UTC)
    # on the wall clock; the screen's countdown counts desk hours, so after closing it reads less than 30m
    due = datetime.fromisoformat(json_lines(cli(*db, "order", "show", number, "--json", check=True).stdout)[0]["due_at"])
    assert before - timedelta(minutes=30, seconds=1) <= due <= after - timedelta(minutes=30), due


@pytest.mark.parametrize("argv, valid", [
    (["order", "list", "--state", "bogus"], ["queued", "in_progress", "on_hold", "released", "cancelled"]),
    (["return", "list", "--state", "bogus"], ["requested", "pending_approval", "authorized", "rejected"]),
    (["order", "list", "--channel", "pigeon"], ["phone", "edi", "walk_in"]),
    (["order", "new", "--user", "alice", "--customer", "C00001", "--line", "BEV-0001:1", "--channel", "pigeon"],
     ["phone", "online"]),
    (["hold", "SO-000001", "--user", "alice", "--reason", "sunspot"], ["credit", "stock", "customer_info"]),
])
def test_bad_values_exit_2_listing_the_valid_ones(demo_db: Path, cli, argv, valid) -> None:
    p = cli("--db", str(demo_db), *argv)
    assert p.returncode == 2 and p.stdout == "", p.stderr
    line, = p.stderr.strip().splitlines()
    assert all(v in line for v in valid), line


def test_claim_count_is_capped(demo_db: Path, cli) -> None:
    before = fingerprint(demo_db)
    for n in ("99999999999999999999", str(MAX_CLAIM_COUNT + 1), "0"):
        p = cli("--db", str(demo_db), "claim", "--user", "alice", "--count", n)
        assert p.returncode == 2 and f"1…{MAX_CLAIM_COUNT}" in p.stderr and p.stdout == "", p.stderr
    assert fingerprint(demo_db) == before


@pytest.mark.parametrize("argv", [
    ("intake", "--watch", "{drop}", "--settle", "inf"),  # int(inf * 500): OverflowError
    ("intake", "--watch", "{drop}", "--settle", "nan"),  # int(nan * 500): ValueError
    ("intake", "--watch", "{drop}", "--settle", "-1"),
    ("intake", "--watch", "{drop}", "--once", "--settle", "1e308"),
    ("simulate", "--reps", "99999999999"),  # a list of that many reps: MemoryError
    ("simulate", "--reps", "0"),
])
def test_numbers_out_of_range_are_one_line_not_a_traceback(demo_db: Path, tmp_path: Path, cli, argv) -> None:
    """The next thing to try after `serve --login-timeout nan`: the other numeric flags took nan, inf
    and huge values to a traceback (or, with --once, a wait without end)."""
    drop = tmp_path / "drop"
    drop.mkdir()
    before = fingerprint(demo_db)
    p = cli("--db", str(demo_db), *(a.format(drop=drop) for a in argv), timeout=60)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "is outside" in p.stderr and p.stdout == ""
    assert fingerprint(demo_db) == before


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):  # noqa: ANN202
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


COVERED = {"order", "claim", "hold", "unhold", "release", "cancel", "ship", "close", "tick", "untick", "unclaim",
           "renew", "override", "reassign", "force-release", "return", "kpi", "events", "simulate"}


def test_every_option_of_the_desk_commands_has_help() -> None:
    missing = []
    for path, parser in _leaves(build_parser()):
        if path[0] not in COVERED:
            continue
        for a in parser._actions:
            if a.help is None and not isinstance(a, argparse._HelpAction) and a.dest not in ("db", "now"):
                missing.append(f"{' '.join(path)} {'/'.join(a.option_strings) or a.dest}")
    assert missing == []


def test_help_names_the_valid_values(cli) -> None:
    new = cli("order", "new", "--help", check=True).stdout
    assert all(w in new for w in ("walk_in", "backorder", "C00012", "--user"))
    assert f"1 … {MAX_CLAIM_COUNT}" in cli("claim", "--help", check=True).stdout
    assert "customer_request" in cli("hold", "--help", check=True).stdout


def test_cli_errors_name_no_tui_keys(demo_db: Path, cli) -> None:
    for argv in (["order", "new", "--user", "alice", "--customer", "C00001", "--line", "NOPE-1:1"],
                 ["order", "new", "--user", "alice", "--customer", "NOBODY-AT-ALL", "--line", "BEV-0001:1"]):
        p = cli("--db", str(demo_db), *argv)
        assert p.returncode == 2 and "unknown" in p.stderr and "F4" not in p.stderr, p.stderr


def test_customer_by_its_number_as_in_the_tui(demo_db: Path, cli) -> None:
    got = json_lines(cli("--db", str(demo_db), "order", "new", "--user", "alice", "--customer", "3",
                         "--line", "BEV-0001:1", "--json", check=True).stdout)[0]
    assert got["customer"] == "C00003"
