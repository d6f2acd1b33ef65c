"""Running the TUI for one session: `python -m tui`, and what `orderq tui` hands over to.

The CLI resolves who is at the keyboard and opens the desk (or refuses); this module only runs
the app and makes sure, whatever way it ends, that the session's claims go back.
"""
from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.service import Desk


def refuse(message: str) -> int:
    """An unknown or disabled user: a refusal screen on a terminal, always one line on stderr; exit 2."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from tui.refusal import RefusalApp

        try:
            RefusalApp(message).run()
        except Exception:  # noqa: BLE001 - the line below still says it
            pass
    print(f"orderq: {message}", file=sys.stderr)
    return 2


def run(desk: Desk, *, screen: str | None = None, theme: str | None = None) -> int:
    from tui.app import OrderqApp

    app = OrderqApp(desk, screen=screen, theme=theme)
    try:
        rc = app.run()
    finally:
        app.release_all()
        desk.store.close()
    if app.exit_error:
        print(f"orderq: {app.exit_error}", file=sys.stderr)
        return 2
    return int(rc or 0)


def main(argv: list[str] | None = None) -> int:
    gc.disable()  # start-up without the cyclic collector: the app resumes it after its first paint
    try:
        return _main(argv)
    finally:
        if not gc.isenabled():  # the app ended before painting
            gc.enable()


def _main(argv: list[str] | None) -> int:
    from core.errors import OrderqError
    from db.service import Desk
    from db.service.identity import session_user
    from db.store import default_db_path

    p = argparse.ArgumentParser(prog="python -m tui", description="the orderq TUI")
    p.add_argument("--db", default=None)
    p.add_argument("--user")
    p.add_argument("--theme")
    p.add_argument("--screen", choices=["queue", "returns", "wallboard"], default=None)
    args = p.parse_args(argv)
    try:
        desk = Desk.open(args.db or default_db_path(), session_user(args.user), defer_rules=True)
    except OrderqError as e:
        return refuse(e.message)
    return run(desk, screen=args.screen, theme=args.theme)
