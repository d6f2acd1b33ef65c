"""Entry point: parse, dispatch, and turn every refusal into one line on stderr with exit 2.

Dispatch is lazy: `COMMANDS` says which module registers which top-level command, so
`orderq tui` (or plain `orderq`) imports only `cli.tui_cmd`, not every front end's module and
its dependencies (demo data, importer, KPIs, …). Help, flags before the command, and any
command not listed here build the full parser, as before: a module that forgets to list its
commands is still found, only slower.

Start-up also runs without the cyclic garbage collector (`pause_gc`): it builds long-lived
objects (modules, classes, models, CSS rules) and almost no garbage, so a collection then is
wasted work (≈ 50 ms of a TUI start). It resumes, with what start-up built frozen out of later
collections (`gc.freeze`), once the command runs, or for the TUI once its first screen is painted.

Nor does it look for pydantic plugins (`no_pydantic_plugins`): orderq uses none, and the look-up
imported importlib.metadata and the email package and read every installed package's entry points,
≈ a tenth of a command's CPU.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
import types
from typing import TYPE_CHECKING

from db import dbapi

if TYPE_CHECKING:  # imported in main(), once the collector is paused
    from cli.common import UsageError

EXIT_REFUSED = 2

#: every front-end module, in the order its commands appear in `orderq --help`
CORE_MODULES = ("cli.admin", "cli.orders")
#: feature front ends register themselves here when present
EXTRA_MODULES = ("cli.tui_cmd", "cli.returns", "cli.kpi", "cli.intake", "cli.serve", "cli.simulate", "cli.customers", "cli.stock",
                 "cli.partners", "cli.deliver", "cli.api_cmd", "cli.webhooks", "cli.copy_cmd")
#: top-level command → the module that registers it (tests/startup checks this against the modules)
COMMANDS = {
    **dict.fromkeys(("init", "demo", "users", "events", "check", "backup"), "cli.admin"),
    **dict.fromkeys(("order", "claim", "hold", "unhold", "release", "cancel", "ship", "close", "tick", "untick", "unclaim",
                     "renew", "override", "reassign", "force-release"), "cli.orders"),
    "tui": "cli.tui_cmd",
    "return": "cli.returns",
    "kpi": "cli.kpi",
    "import": "cli.intake",
    "intake": "cli.intake",
    "simulate": "cli.simulate",
    "serve": "cli.serve",
    "customers": "cli.customers",
    "stock": "cli.stock",
    "partners": "cli.partners",
    "deliver": "cli.deliver",
    "deliveries": "cli.deliver",
    "api": "cli.api_cmd",
    "webhooks": "cli.webhooks",
    "copy": "cli.copy_cmd",
}
#: options of the top-level parser that take a value
GLOBAL_OPTIONS = ("--db", "--now")


def _load(name: str):  # noqa: ANN202 - a module with register(sub, parent), or None if not installed
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
        return None


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The parser with every command (default), or only those registered by `modules`."""
    return _build(modules)[0]


class _Unbuilt:
    """What `register` gets back for a command that is not the one running: it takes every call
    (add_argument, set_defaults, add_subparsers, …) and builds nothing."""

    def __call__(self, *args: object, **kwargs: object) -> "_Unbuilt":
        return self

    def __getattr__(self, name: str) -> "_Unbuilt":
        return self


class _OneCommand:
    """The subparsers action as a module's `register` sees it when only `word` runs: that command's
    parser is built for real, its siblings not at all. WHY: building every parser of cli.orders (16
    commands, 150 options) cost ≈ 8 ms of each command's start, for parsers that are never used.
    Everything else (the choices the caller checks, help) is the real action's."""

    def __init__(self, sub: argparse._SubParsersAction, word: str) -> None:
        self._sub = sub
        self._word = word

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser | _Unbuilt:
        if name == self._word or self._word in kwargs.get("aliases", ()):  # type: ignore[operator]
            return self._sub.add_parser(name, **kwargs)
        return _Unbuilt()

    def __getattr__(self, name: str) -> object:
        return getattr(self._sub, name)


def _build(modules: tuple[str, ...] | None,
           only: str | None = None) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """`only`: build that top-level command's parser alone (`_OneCommand`); the others stay unbuilt."""
    from cli.common import OneLineParser

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="database file (default $ORDERQ_DB or ./orderq.db)")
    common.add_argument("--now", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser = OneLineParser(prog="orderq", description="A shared order-processing and returns queue.")
    parser.add_argument("--db", default=None, help="database file (default $ORDERQ_DB or ./orderq.db)")
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="cmd", parser_class=OneLineParser)
    for name in modules if modules is not None else CORE_MODULES + EXTRA_MODULES:
        mod = _load(name)
        if mod is not None:
            mod.register(_OneCommand(sub, only) if only else sub, common)
    return parser, sub


def command_word(argv: list[str]) -> str | None:
    """The top-level command in argv; "" when there is none (plain `orderq`); None when only the
    full parser can tell (help, an unknown flag before the command)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in GLOBAL_OPTIONS:
            i += 2
        elif a.startswith(tuple(o + "=" for o in GLOBAL_OPTIONS)):
            i += 1
        elif a.startswith("-"):
            return None
        else:
            return a
    return ""


def _parse(argv: list[str]) -> argparse.Namespace | None:
    """Parse with the smallest parser that knows the command; None: print the full help."""
    from cli.common import UsageError

    word = command_word(argv)
    if word == "":  # plain `orderq`: the TUI, when it is installed
        if _load("cli.tui_cmd") is None:
            return None
        word, argv = "tui", ["tui", *argv]
    owner = COMMANDS.get(word) if word else None
    parser, sub = _build((owner,), only=word) if owner else (None, None)
    if parser is None or word not in sub.choices:
        parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if args.cmd is None:
            return None
        raise UsageError(f"orderq {args.cmd}: missing subcommand")
    return args


#: pydantic's module that finds its plugins (pydantic.plugin._schema_validator imports it when it builds a validator)
PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"


def no_pydantic_plugins() -> None:
    """Answer pydantic's plugin look-up with "none", as PYDANTIC_DISABLE_PLUGINS=__all__ would, but without
    importing its loader. WHY: the loader imports importlib.metadata (and through it the email package) at
    import time and then reads the entry points of every installed package, the first time any validator
    is built: ≈ 25 ms of a 0.3 s command, in every `orderq` process the desk (and the suite) starts.
    orderq uses no pydantic plugins; a process that has loaded the real loader already keeps it."""
    if PYDANTIC_PLUGIN_LOADER not in sys.modules:
        loader = types.ModuleType(PYDANTIC_PLUGIN_LOADER, "orderq: no pydantic plugins (cli.main.no_pydantic_plugins)")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
        sys.modules[PYDANTIC_PLUGIN_LOADER] = loader


_gc_paused = False


def pause_gc() -> None:
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def end_startup() -> None:
    """Resume the collector paused for start-up; what start-up built is frozen out of its passes."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        if not gc.isenabled():  # the TUI resumes it itself after its first paint
            gc.freeze()
            gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Run one command. Its stdout and stderr show user text's terminal controls as escapes
    (`PrintableStream`): a note or a name never clears the screen or sets the window title."""
    pause_gc()
    no_pydantic_plugins()
    from cli.common import PrintableStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err)
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        sys.stdout, sys.stderr = out, err
        end_startup()


def _main(argv: list[str]) -> int:
    from core.errors import OrderqError
    from db.connection import committed_writes
    from cli.common import UsageError

    # refusals are already one line on stderr and an event in the log; diagnostics only on request
    level = os.environ.get("ORDERQ_LOG_LEVEL", "ERROR").upper()
    logging.basicConfig(level=getattr(logging, level, logging.ERROR),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        args = _parse(argv)
        if args is None:
            build_parser().print_help()
            return 0
        _text_is_utf8(args)
        if getattr(args, "now", None):
            from cli.common import clock_for

            clock_for(args)  # refused before the command runs, whichever command it is
        if not getattr(args, "startup_ends_at_first_paint", False):
            end_startup()
        return int(args.func(args) or 0)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_REFUSED
    except OrderqError as e:
        print(f"orderq: {_honest(e.message, committed_writes())}", file=sys.stderr)
        return EXIT_REFUSED
    except dbapi.Error as e:
        from db.connection import translate

        print(f"orderq: {_honest(translate(e).message, committed_writes())}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


#: arguments that name a file or folder: any bytes the filesystem allows (a name that is not UTF-8 is
#: still that file's name); every other argument is text that may be stored, so it must be UTF-8
PATH_ARGUMENTS = frozenset({"db", "file", "dest", "rejects", "html", "arrivals", "watch", "host_key", "key",
                            "webhook_secret_file", "secret_file"})


def _text_is_utf8(args: argparse.Namespace) -> None:
    """Refuse (one line, exit 2) a text argument holding bytes that are not UTF-8. WHY: Python hands
    them on as lone surrogates, which SQLite cannot store: `hold --note $'A\\x9b'` ended in a traceback."""
    from cli.common import UsageError

    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not text.isascii():
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise UsageError(f"orderq: the {dest.replace('_', ' ')} given is not UTF-8 text; "
                                     "nothing was written") from None


def _honest(message: str, committed: int) -> str:
    """A refusal says "nothing was written" of its own transaction; if this command had already committed
    earlier ones (one command per process, so the process's count is the command's), say so instead."""
    from db.connection import NOTHING_WRITTEN

    if not committed or NOTHING_WRITTEN not in message:
        return message
    return message.replace(NOTHING_WRITTEN, f"this step was not written, but {committed} earlier write(s) of this "
                                            "command were committed (see `orderq events`)")


if __name__ == "__main__":
    sys.exit(main())
