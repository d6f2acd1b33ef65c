"""Start-up stays lean: `orderq tui` loads only what its first screen needs, and nothing is lost by it."""
from __future__ import annotations

import argparse
import gc
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _registered(module: str) -> list[str]:
    from cli.common import OneLineParser

    parser = OneLineParser(prog="orderq")
    sub = parser.add_subparsers(dest="cmd")
    importlib.import_module(module).register(sub, argparse.ArgumentParser(add_help=False))
    return list(sub.choices)


def test_command_map_matches_what_each_module_registers() -> None:
    from cli.main import COMMANDS, CORE_MODULES, EXTRA_MODULES, _load

    for module in CORE_MODULES + EXTRA_MODULES:
        if _load(module) is None:
            continue  # that front end has not landed in this build
        for cmd in _registered(module):
            assert COMMANDS.get(cmd) == module, f"add {cmd!r}: {module!r} to cli.main.COMMANDS"


@pytest.mark.parametrize(("argv", "word"), [
    ([], ""), (["--db", "x.db"], ""), (["--db=x.db", "tui", "--user", "a"], "tui"),
    (["--now", "2026-01-01", "order", "list"], "order"), (["--help"], None), (["-x", "tui"], None),
])
def test_command_word(argv: list[str], word: str | None) -> None:
    from cli.main import command_word

    assert command_word(argv) == word


def test_tui_dispatch_imports_no_other_front_end() -> None:
    code = ("import sys; from cli.main import _parse; a = _parse(['--db', 'x.db', 'tui', '--user', 'alice']);"
            "print(a.cmd, a.user, sorted(m for m in sys.modules if m.startswith(('cli.', 'db.service.', 'db.importer'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.startswith("tui alice ")
    loaded = eval(out.split(" ", 2)[2])  # noqa: S307 - our own printout
    assert {m for m in loaded if m.startswith("cli.")} == {"cli.common", "cli.main", "cli.tui_cmd"}
    assert not any(m.startswith("db.importer") for m in loaded)
    assert "db.service.kpi" not in loaded and "db.service.returns" not in loaded


def test_help_still_lists_every_command(cli) -> None:  # noqa: ANN001
    out = cli("--help", check=True).stdout
    for cmd in ("init", "demo", "order", "claim", "tui", "return", "kpi", "import", "simulate"):
        assert cmd in out
    assert "--screen" in cli("tui", "--help", check=True).stdout
    bad = cli("tui", "--bogus")
    assert bad.returncode == 2 and "--bogus" in bad.stderr and "Traceback" not in bad.stderr
    assert cli("nosuch").returncode == 2


def test_desk_builds_each_service_once_on_first_use(tmp_path: Path, open_store) -> None:  # noqa: ANN001
    from db.service import Desk

    store = open_store(tmp_path / "d.db", create=True)
    desk = Desk.operator(store)
    assert "kpi" not in desk.__dict__
    kpi = desk.kpi
    assert desk.kpi is kpi and desk.__dict__["kpi"] is kpi and kpi.ctx is desk.ctx
    assert type(desk.orders).__name__ == "OrderService"


async def test_app_resumes_gc_paused_for_start_up_after_first_paint(tmp_path: Path, clock) -> None:  # noqa: ANN001
    from db import demo
    from db.service import Desk
    from db.store import Store
    from tui.app import OrderqApp

    p = tmp_path / "q.db"
    store = Store.open(p, create=True, clock=clock)
    demo.generate(store, orders=50, seed=1)
    store.close()
    desk = Desk.open(p, "alice", clock=clock)
    app = OrderqApp(desk, feed=False, keymap={}, session=False)
    gc.disable()  # as `orderq tui` does
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            for _ in range(100):
                if gc.isenabled():
                    break
                await pilot.pause(0.02)
            assert gc.isenabled()
            assert "items" in str(app.screen.query_one("#qbar").render())
    finally:
        gc.enable()
        desk.store.close()


def test_bad_rules_file_still_stops_orderq_tui(tmp_path: Path, cli) -> None:  # noqa: ANN001
    db = tmp_path / "r.db"
    cli("--db", str(db), "demo", "--orders", "20", check=True)
    rules = tmp_path / "rules.toml"
    rules.write_text((REPO / "core" / "default_rules.toml").read_text().replace("lease_minutes = 10",
                                                                              "lease_minutes = -1"))
    r = cli("--db", str(db), "tui", "--user", "alice", env={"ORDERQ_RULES": str(rules)})
    assert r.returncode == 2
    assert "claims.lease_minutes" in r.stderr and "Traceback" not in r.stderr


def test_queue_paints_before_pydantic_loads_then_validates_the_rules(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """SPEC §5 first paint: `orderq tui` draws the queue without importing pydantic (a sixth of a
    bare Textual start); the rules are validated straight after, before the session is live."""
    db = tmp_path / "p.db"
    cli("--db", str(db), "demo", "--orders", "30", check=True)
    code = f"""
import asyncio, json, sys
from cli.common import user_desk
from cli.main import _parse
desk = user_desk(_parse(["--db", {str(db)!r}, "tui", "--user", "alice"]), defer_rules=True)
from tui.app import OrderqApp
app = OrderqApp(desk, feed=False, keymap={{}}, session=False)
seen = {{}}
first_paint = app.first_paint
def note_first_paint():
    from tui.screens.queue import QueueView
    seen["rows_at_paint"] = app.screen.query_one(QueueView).source.total
    seen["pydantic_at_paint"] = "pydantic" in sys.modules
    first_paint()
app.first_paint = note_first_paint
async def main():
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(200):
            if desk.store.rules_loaded:
                break
            await pilot.pause(0.02)
asyncio.run(main())
seen["rules_loaded"] = desk.store.rules_loaded
print(json.dumps(seen))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.returncode == 0, p.stderr
    seen = __import__("json").loads(p.stdout.strip().splitlines()[-1])
    assert seen["rows_at_paint"] > 0
    assert seen == {"rows_at_paint": seen["rows_at_paint"], "pydantic_at_paint": False, "rules_loaded": True}


def _helps(parser: argparse.ArgumentParser, path: str = "") -> dict[str, str]:
    """Every parser's help under `parser`, nested subcommands included, by command path."""
    out = {path: parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out.update(_helps(child, f"{path} {name}"))
    return out


def test_each_command_built_alone_parses_as_in_the_full_parser() -> None:
    """A command runs on its own parser only (cli.main._OneCommand): every command, and every one of its
    subcommands, has the same help (so the same options, defaults and choices) as in `orderq --help`'s parser."""
    from cli.main import COMMANDS, _build, build_parser

    full = {name: p for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
            for name, p in a.choices.items()}
    for word, owner in COMMANDS.items():
        alone = _build((owner,), only=word)[1].choices
        assert set(alone) == {word}, f"{word}: built {sorted(alone)}"
        assert _helps(alone[word]) == _helps(full[word]), word


#: what a plain command never needs: the faces' libraries, the other backend's driver, and the package
#: metadata that pydantic's plugin look-up read (cli.main.no_pydantic_plugins)
NOT_FOR_A_PLAIN_COMMAND = ("textual", "rich", "fastapi", "starlette", "uvicorn", "asyncssh", "watchfiles", "psycopg",
                           "sqlite_utils", "importlib.metadata", "email")


@pytest.mark.sqlite_only("psycopg is the PostgreSQL backend's driver: a SQLite desk's command never loads it")
def test_a_plain_command_loads_none_of_the_heavy_libraries(demo_db: Path) -> None:
    """Each `orderq` process pays for what it imports (the suite starts thousands): `order list`, `claim`
    and `tick` in a real process load none of them, and still do their work."""
    db = demo_db
    code = """
import contextlib, io, json, sys
from cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "out": out.getvalue(), "heavy": sorted(set(m.split(".")[0] if m != "importlib.metadata" else m
      for m in sys.modules) & set(%r))}))
""" % (NOT_FOR_A_PLAIN_COMMAND,)

    def run(*argv: str, on: Path = db) -> dict:
        p = subprocess.run([sys.executable, "-c", code, "--db", str(on), *argv], capture_output=True, text=True,
                           cwd=REPO, timeout=60)
        assert p.returncode == 0, p.stderr
        return __import__("json").loads(p.stdout.strip().splitlines()[-1])

    listed = run("order", "list", "--json")
    claimed = run("claim", "--user", "alice", "--count", "1", "--json")
    assert listed["rc"] == 0 and listed["out"].count('"number"') >= 1
    assert claimed["rc"] == 0 and '"claim_token"' in claimed["out"]
    c = __import__("json").loads(claimed["out"])
    step = __import__("json").loads(run("order", "show", c["number"], "--json")["out"])["checklist"][0]["step"]
    ticked = run("tick", c["number"], step, "--user", "alice", "--token", c["claim_token"])
    assert ticked["rc"] == 0 and "ticked" in ticked["out"]
    assert (listed["heavy"], claimed["heavy"], ticked["heavy"]) == ([], [], [])
    made = run("init", on=db.parent / "fresh.db")  # migrations need sqlite-utils, and nothing else of the list
    assert made["rc"] == 0 and (db.parent / "fresh.db").is_file() and made["heavy"] == ["sqlite_utils"]
