"""What every subcommand shares: opening the desk as the right user, and printing."""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from core.plain_text import json_controls_escaped, printable
from core.when import parse_when
from db.service import Desk
from db.service.identity import TEST_CLOCK_ENV, in_ssh_session, session_user
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


#: commands that always run on the real clock, switch or not
REAL_CLOCK_COMMANDS = frozenset({"serve", "api"})


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


def bounded_float(lo: float, hi: float):  # noqa: ANN201 - an argparse `type`
    """An argparse `type`: a number from `lo` to `hi`, else one line naming the range. WHY: plain
    `float` takes nan, inf and 1e308, which `intake --settle` turned into a traceback."""
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(x) and lo <= x <= hi):
            raise argparse.ArgumentTypeError(f"{text} is outside {lo:g}…{hi:g}")
        return x

    return parse


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
        p.add_argument("number", help="its number (SO-000123, RMA-000045)")
        p.add_argument("--user", help=USER_HELP)
        p.add_argument("--json", action="store_true", help="the result as one JSON line")
        for flag, kw in extra:
            p.add_argument(flag, **kw)
        p.set_defaults(func=func)

    return add


class PrintableStream:
    """stdout or stderr for a command: every write shows terminal controls as escapes (`printable`).

    The one place the CLI's text output goes through, so that a note holding `ESC[2J` or a window
    title sequence prints as text whichever command shows it (order show, events, return show,
    users list, an error quoting the input, …). Everything else is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def own_drawing(stream: Any) -> Any:
    """The terminal under a `PrintableStream`, for output of our own that draws with escapes on
    purpose and holds no user text (the import's progress bar)."""
    return stream._stream if isinstance(stream, PrintableStream) else stream


def emit_json(obj: Any) -> None:
    """One JSON value on a line; controls inside strings stay JSON escapes, so the value is exact."""
    sys.stdout.write(json_controls_escaped(json.dumps(obj, default=str, ensure_ascii=False)) + "\n")


def emit_lines(objs: Iterable[Any]) -> None:
    for o in objs:
        emit_json(o)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Aligned columns; a cell's newline, tab or control is an escape, so every row stays one line."""
    rows = [[printable(str(x), multiline=False) for x in r] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    out = [fmt.format(*headers), fmt.format(*["-" * w for w in widths])]
    out += [fmt.format(*[str(x) for x in r]) for r in rows]
    return "\n".join(out)
