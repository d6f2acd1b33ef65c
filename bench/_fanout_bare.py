"""The floor under bench_fanout: a bare Textual app that follows the same change feed and redraws
one line per batch ("last: <actor> <action> <ref>"). Whatever a real session spends above this on a
change is orderq's own drawing and reading.

argv: DB. Runs until its terminal hangs up (SIGHUP when bench_fanout closes the PTY master).
"""
from __future__ import annotations

import signal
import sys

from textual.app import App, ComposeResult
from textual.widgets import Static

from db.feed import open_feed
from db.store import Store


class Bare(App):
    def __init__(self, db: str) -> None:
        super().__init__()
        self.store = Store.open(db)

    def compose(self) -> ComposeResult:
        yield Static("bare: waiting", id="line")

    def on_mount(self) -> None:
        import asyncio

        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        self.follow()

    def follow(self) -> None:
        async def run() -> None:
            feed = open_feed(self.store)
            async for batch in feed.batches():
                ev = batch[-1]
                self.query_one("#line", Static).update(f"last: {ev.actor} {ev.action} {ev.ref}")

        self.run_worker(run(), exclusive=True)


if __name__ == "__main__":
    Bare(sys.argv[1]).run()
    sys.exit(0)
