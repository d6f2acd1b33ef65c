"""What every subcommand shares: opening the desk as the right user, and printing."""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from core.when import parse_when
from db.service import Desk
from db.service.identity import session_user
from db.store import Store, default_db_path, system_clock


class UsageError(Exception):
    """Bad flags: one line, exit 2."""


#: what argparse must read as a value, not an option: negative numbers and relative times (-2h, -30m, -1.5d)
NEGATIVE_VALUE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d+(?:\.\d+)?\s*[smhd]$", re.IGNORECASE)

#: the largest id SQLite stores (a signed 64-bit integer)
MAX_ID = 2**63 - 1

#: the help of every --user flag
USER_HELP = "who you are (default: your login name); `orderq users list` shows the users"


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus an error; a script wants one clear line and exit 2.

    `--since -2h` works as `--since=-2h` does: argparse's own test for "this looks like a negative
    number, so it is a value" is widened to relative times (no option of ours starts with -<digit>)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_VALUE

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def bounded_int(lo: int, hi: int):  # noqa: ANN201 - an argparse `type`
    """An argparse `type`: a whole number from `lo` to `hi`, else one line naming the range."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside {lo}…{hi}")
        return n

    return parse


def clock_for(args: argparse.Namespace):  # noqa: ANN201 - a Clock
    """--now pins the clock (tests, replays); otherwise the system clock."""
    if getattr(args, "now", None):
        fixed = parse_when(args.now, datetime.now(UTC), field="--now")
        return lambda: fixed
    return system_clock


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
        p.add_argument("number", help="its number (SO-000123, RMA-000045)")
        p.add_argument("--user", help=USER_HELP)
        p.add_argument("--json", action="store_true", help="the result as one JSON line")
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
