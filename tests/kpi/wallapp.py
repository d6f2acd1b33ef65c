"""A test-only host for the wallboard, doing what the real app shell (tui/app.py) promises the
screens: one change feed, and a StoreChanged posted to every screen on the stack after each batch."""
from __future__ import annotations

from textual.app import App

from db.feed import ChangeFeed, open_feed
from db.service import Desk
from tests.tui_host import OpensScreens
from tui.messages import StoreChanged
from tui.plain import PlainNotify
from tui.screens.wallboard import WallboardScreen


class WallApp(OpensScreens, PlainNotify, App):
    def __init__(self, desk: Desk, *, feed: bool = True) -> None:
        super().__init__()
        self.desk = desk
        self.feed_on = feed
        self.feed: ChangeFeed | None = None

    def on_mount(self) -> None:
        self.push_screen(WallboardScreen(self.desk))
        if self.feed_on:
            self.feed = open_feed(self.desk.store)
            self.run_worker(self._follow(), exclusive=True)

    async def _follow(self) -> None:
        assert self.feed is not None
        async for batch in self.feed.batches():
            for screen in self.screen_stack:
                screen.post_message(StoreChanged(batch))

    def feed_poke(self) -> None:
        if self.feed is not None:
            self.feed.poke()

    async def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.stop()


if __name__ == "__main__":  # a real terminal: python -m tests.kpi.wallapp DB USER
    import sys

    WallApp(Desk.open(sys.argv[1], sys.argv[2])).run()
