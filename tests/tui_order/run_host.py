"""Run a screen of this branch in a real terminal (for the tmux tests), inside the stand-in host app.

    python -m tests.tui_order.run_host DB USER entry
    python -m tests.tui_order.run_host DB USER order NUMBER
"""
from __future__ import annotations

import sys

from db.service import Desk
from tests.tui_host import HostApp


def main(argv: list[str]) -> None:
    db, user, screen, *rest = argv
    desk = Desk.open(db, user)
    if screen == "entry":
        from tui.screens.entry import EntryScreen

        make = EntryScreen
    else:
        from tui.screens.order import OrderScreen

        def make(d: Desk) -> OrderScreen:
            return OrderScreen(d, rest[0], None)

    HostApp(desk, make, feed=True).run()


if __name__ == "__main__":
    main(sys.argv[1:])
