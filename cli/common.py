"""What every subcommand shares: opening the desk as the right user, and printing."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from core.when import parse_when
from db.service import Desk
from db.service.identity import TEST_CLOCK_ENV, in_ssh_session, session_user
from db.store import Store, default_db_path, system_clock


class UsageError(Exception):
    """Bad flags: one line, exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus an error; a script wants one clear line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


#: commands that always run on the real clock, switch or not
REAL_CLOCK_COMMANDS = frozenset({"serve"})


def now_flag_refusal(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> str | None:
    """Why `--now` may not pin the clock here, or None when it may. A pinned clock backdates new
    orders and fast-forwards leases (another rep's claim expires), so it is for test processes
    only: never inside an SSH session, never for the server (whose sessions never get the switch)."""
    if getattr(args, "cmd", None) in REAL_CLOCK_COMMANDS:
        return f"orderq {args.cmd} always runs on the real clock; --now is refused"
    if in_ssh_session(env):
        return "--now is refused inside an SSH session"
    if env.get(TEST_CLOCK_ENV) != "1":
        return f"--now is for tests and demos only ({TEST_CLOCK_ENV}=1 in the environment); it is refused"
    return None


def clock_for(args: argparse.Namespace):  # noqa: ANN201 - a Clock
    """--now pins the clock where `now_flag_refusal` allows it; otherwise the system clock."""
    if not getattr(args, "now", None):
        return system_clock
    why = now_flag_refusal(args)
    if why:
        raise UsageError(f"orderq: {why}")
    fixed = parse_when(args.now, datetime.now(UTC), field="--now")
    return lambda: fixed


def db_path(args: argparse.Namespace) -> str:
    return args.db or default_db_path()


def open_store(args: argparse.Namespace, *, create: bool = False, defer_rules: bool = False) -> Store:
    return Store.open(db_path(args), clock=clock_for(args), create=create, rules=None, defer_rules=defer_rules)


def user_desk(args: argparse.Namespace, *, defer_rules: bool = False) -> Desk:
    """A desk for the person at the keyboard; unknown or disabled users are refused.
    `defer_rules`: the TUI validates the rules itself, right after its first paint."""
    store = open_store(args, defer_rules=defer_rules)
    try:
        return Desk.for_user(store, session_user(getattr(args, "user", None)))
    except Exception:
        store.close()
        raise


def operator_desk(args: argparse.Namespace) -> Desk:
    """Set-up commands run by whoever holds the database file; --user, when given, must be allowed."""
    store = open_store(args)
    user = getattr(args, "user", None)
    try:
        if user:
            return Desk.for_user(store, session_user(user))
        return Desk.operator(store, f"operator:{session_user(None)}")
    except Exception:
        store.close()
        raise


def item_actions(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser):  # noqa: ANN201
    """`add(name, help, func, *extra)`: a subcommand acting on one item by its number, with --user and
    --json, plus `extra` (flag, argparse keywords) pairs. Orders and returns both build theirs so."""
    def add(name: str, help: str, func, *extra: tuple[str, dict]) -> None:  # noqa: ANN001
        p = sub.add_parser(name, help=help, parents=[parent])
        p.add_argument("number")
        p.add_argument("--user")
        p.add_argument("--json", action="store_true")
        for flag, kw in extra:
            p.add_argument(flag, **kw)
        p.set_defaults(func=func)

    return add


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=str, ensure_ascii=False) + "\n")


def emit_lines(objs: Iterable[Any]) -> None:
    for o in objs:
        emit_json(o)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    out = [fmt.format(*headers), fmt.format(*["-" * w for w in widths])]
    out += [fmt.format(*[str(x) for x in r]) for r in rows]
    return "\n".join(out)
