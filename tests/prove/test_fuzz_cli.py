"""Bad-input fuzzing of the command line: random argv for every `orderq` subcommand.

Run in-process through `cli.main.main(argv)`. Whatever the argv: no traceback, exit 0 or 2
(1 only for `check`), a refusal ends with one clear line on stderr, and a refusal writes
nothing (the database fingerprint is unchanged). Subcommands are read from the real parser, so
commands that other branches add are fuzzed too, except those that start servers or UIs
(tui, serve, intake --watch), fill the database wholesale (demo, import), or write files outside
the database (backup) — those have their own tests. The fuzz runs in a scratch working directory.
"""
from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import build_parser, main
from tests.conftest import run_cli
from tests.prove.conftest import fingerprint

# servers, UIs, watchers and the delivery worker run until stopped (api, deliver: their own tests); demo, backup, copy and import write wholesale or write files
# beside the database (import rows have their own fuzzing, with the intake work)
SKIP_COMMANDS = {"tui", "serve", "intake", "demo", "backup", "copy", "import", "simulate", "api", "deliver"}
SKIP_FLAGS = {"-h", "--help", "--db", "--now", "--rejects", "--host-key"}


def leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], list[str], int]]:
    """(subcommand path, its option flags, its positional count) for every runnable subcommand."""
    out = []
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        for name, child in subs[0].choices.items():
            if not prefix and name in SKIP_COMMANDS:
                continue
            out += leaves(child, (*prefix, name))
        return out
    flags = sorted({o for a in parser._actions for o in a.option_strings if o not in SKIP_FLAGS})
    npos = sum(1 for a in parser._actions if not a.option_strings)
    return [(prefix, flags, npos)]


LEAVES = leaves(build_parser())
ARG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzzcli")
    p = folder / "fuzz.db"
    run_cli("--db", str(p), "demo", "--orders", "60", "--seed", "4", check=True)
    with contextlib.chdir(folder):  # anything a command writes beside "the current directory" lands here
        yield p


def values(db: Path) -> st.SearchStrategy[str]:
    return st.one_of(
        ARG_TEXT,
        st.sampled_from(["alice", "bob", "carol", "sam", "admin", "nobody", ""]),
        st.sampled_from([f"SO-{i:06d}" for i in (1, 2, 3, 17, 40, 59, 999999)]),
        st.sampled_from(["queued", "in_progress", "on_hold", "P1", "P9", "credit", "stock", "pricing", "orders",
                         "returns", "HOM-0001", "BEV-0002:3", "BEV-0002:-1", "X:1:200", "C00001", "online",
                         "rush", "standard", "confirm pricing", "2026-11-26T10:00", "+3h", "yesterday", "-1",
                         "0", "1e9", "NaN", "99999999999999999999", "--", "-", "../etc/passwd"]),
        # times at and past the date window's edges (issue 17 item 9), negative offsets as separate arguments
        st.sampled_from(["-2h", "-30m", "+1d", "+25h", "-99999999d", "+99999999999d", "9999-12-31T22:30",
                         "0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00", "1900-01-01", "2099-01-01",
                         "1970-01-01T00:00Z", "99999999999999999999999", "today", "now"]),
        st.integers(-10**12, 10**12).map(str),
    )


def token(flags: list[str], db: Path) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(flags), values(db)) if flags else values(db)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(data=st.data())
def test_random_argv_never_tracebacks_and_refusals_write_nothing(fuzz_db: Path, capsys: pytest.CaptureFixture,
                                                                 data: st.DataObject) -> None:
    path, flags, npos = data.draw(st.sampled_from(LEAVES), label="command")
    args = data.draw(st.lists(token(flags, fuzz_db), max_size=7), label="args")
    # mostly the right number of positionals, sometimes not
    args = data.draw(st.lists(values(fuzz_db), min_size=npos, max_size=npos)) + args
    argv = ["--db", str(fuzz_db), *path, *args]
    before = fingerprint(fuzz_db)
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, argv
    allowed = {0, 2} | ({1} if path[0] == "check" else set())
    assert rc in allowed, (argv, rc, err)
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines, f"refused without saying why: {argv}"
        assert len(lines[-1]) < 400
        assert fingerprint(fuzz_db) == before, f"a refusal wrote to the database: {argv}: {err}"


def test_a_refusal_is_one_line_in_a_real_process(fuzz_db: Path) -> None:
    """The same, end to end, for a small sample: the console script's stderr is one line."""
    for argv in (["claim", "--user", "nobody"], ["hold", "SO-000001", "--user", "alice", "--reason", "bogus"],
                 ["order", "new", "--user", "alice", "--customer", "C00001", "--line", "BEV-0002:-1"],
                 ["override", "SO-000002", "--user", "alice", "--reason", "x", "--priority", "P1"],
                 ["claim", "--count", "0", "--user", "alice"], ["order", "list", "--limit", "x"]):
        before = fingerprint(fuzz_db)
        p = run_cli("--db", str(fuzz_db), *argv)
        assert p.returncode == 2, (argv, p.stderr)
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert "Traceback" not in p.stderr
        assert len(lines) == 1, f"{argv}: stderr is not one line: {p.stderr!r}"
        assert fingerprint(fuzz_db) == before
