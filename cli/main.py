"""Entry point: parse, dispatch, and turn every refusal into one line on stderr with exit 2."""
from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys

from core.errors import OrderqError
from db.connection import translate
from cli import admin, orders
from cli.common import OneLineParser, UsageError

EXIT_REFUSED = 2


def _extra_modules() -> list:
    """Feature front ends register themselves here when present."""
    mods = []
    for name in ("cli.tui_cmd", "cli.returns", "cli.kpi", "cli.intake", "cli.serve", "cli.simulate"):
        try:
            mods.append(__import__(name, fromlist=["register"]))
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
    return mods


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="database file (default $ORDERQ_DB or ./orderq.db)")
    common.add_argument("--now", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser = OneLineParser(prog="orderq", description="A shared order-processing and returns queue.")
    parser.add_argument("--db", default=None, help="database file (default $ORDERQ_DB or ./orderq.db)")
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="cmd", parser_class=OneLineParser)
    admin.register(sub, common)
    orders.register(sub, common)
    for mod in _extra_modules():
        mod.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    # refusals are already one line on stderr and an event in the log; diagnostics only on request
    level = os.environ.get("ORDERQ_LOG_LEVEL", "ERROR").upper()
    logging.basicConfig(level=getattr(logging, level, logging.ERROR),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            if args.cmd is None:
                tui = getattr(args, "func", None) or _default_tui()
                if tui is None:
                    parser.print_help()
                    return 0
                args = parser.parse_args(["tui", *argv])
            else:
                raise UsageError(f"orderq {args.cmd}: missing subcommand")
        return int(args.func(args) or 0)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_REFUSED
    except OrderqError as e:
        print(f"orderq: {e.message}", file=sys.stderr)
        return EXIT_REFUSED
    except sqlite3.Error as e:
        print(f"orderq: {translate(e).message}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def _default_tui():  # noqa: ANN202
    try:
        import cli.tui_cmd  # noqa: F401
    except ModuleNotFoundError:
        return None
    return True


if __name__ == "__main__":
    sys.exit(main())
