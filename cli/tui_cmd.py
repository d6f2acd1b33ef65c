"""`orderq tui [--user U] [--theme T] [--screen queue|returns|wallboard]`; plain `orderq` runs it too.

The CLI resolves the user (SPEC §2 Identity) and opens the desk, then hands over to the TUI's own
entry point, `tui.main.run`. The two front ends stay independent packages (import-linter's
`cli | tui` layer), so the hand-over is by module name, the same one `python -m tui` runs.
"""
from __future__ import annotations

import argparse
import importlib

from core.errors import PermissionDenied
from cli.common import UsageError, user_desk

SCREENS = ("queue", "returns", "wallboard")


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("tui", help="the TUI in this terminal (the default command)", parents=[parent])
    p.add_argument("--user", help="who you are (ignored inside an SSH session: your login name is used)")
    p.add_argument("--theme", help="orderq-dark (default), orderq-light, wallboard-hc, green-screen")
    p.add_argument("--screen", choices=SCREENS, default=None,
                   help="the screen to open on (default: the role's own: returns for a returns clerk, else queue)")
    # the app resumes the garbage collector paused for start-up after its first paint (cli.main)
    p.set_defaults(func=cmd_tui, startup_ends_at_first_paint=True)


def cmd_tui(args: argparse.Namespace) -> int:
    if args.theme:
        from themes import theme_names

        names = theme_names()
        if args.theme not in names:
            raise UsageError(f"orderq tui: unknown theme {args.theme!r} (choose from {', '.join(names)})")
    tui_main = importlib.import_module("tui.main")
    try:
        desk = user_desk(args, defer_rules=True)
    except PermissionDenied as e:
        return tui_main.refuse(e.message)
    return tui_main.run(desk, screen=args.screen, theme=args.theme)
