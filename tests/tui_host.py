"""A tiny stand-in for OrderqApp, shared by the screen tests, with exactly the contract the screens use:
`app.desk`, `app.claims` (add/remove/token_for) and `app.feed_poke()`, plus a real change feed that
posts StoreChanged to every screen on the stack."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Label

from db.feed import ChangeFeed
from db.service import Desk
from tui.messages import OpenScreen, StoreChanged
from tui.plain import PlainNotify


class Claims:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.held: dict[str, tuple[str, str]] = {}

    def add(self, queue: str, number: str, token: str) -> None:
        self.held[number] = (queue, token)

    def remove(self, number: str) -> None:
        self.held.pop(number, None)

    def token_for(self, number: str) -> str | None:
        got = self.held.get(number)
        return got[1] if got else None


class Home(Screen):
    def compose(self) -> ComposeResult:
        yield Label("home")


class OpensScreens:
    """Mixed into a test host: what OrderqApp does when a screen asks for another (OpenScreen)."""

    def on_open_screen(self, message: OpenScreen) -> None:
        """What OrderqApp does when a screen asks for another (tui.screen_registry.build_screen)."""
        from tui.screen_registry import build_screen

        if message.replace and len(self.screen_stack) > 1:
            self.pop_screen()
        screen = build_screen(self.desk, message.name, *message.args)
        if screen is not None:
            self.push_screen(screen)


class HostApp(OpensScreens, PlainNotify, App):
    def __init__(self, desk: Desk, make_screen: Callable[[Desk], Screen] | None = None, *, feed: bool = False) -> None:
        super().__init__()
        self.desk = desk
        self.claims = Claims(desk)
        self.make_screen = make_screen
        self.use_feed = feed
        self.feed: ChangeFeed | None = None
        self.batches = 0
        self.notes: list[tuple[str, str]] = []  # (severity, message) of every notification

    def notify(self, message: str, *, title: str = "", severity: str = "information", **kw) -> None:  # noqa: ANN003
        self.notes.append((severity, f"{title}: {message}" if title else message))
        super().notify(message, title=title, severity=severity, **kw)  # type: ignore[arg-type]

    def said(self, text: str) -> bool:
        return any(text in m for _, m in self.notes)

    def on_mount(self) -> None:
        self.push_screen(Home())
        if self.make_screen is not None:
            self.push_screen(self.make_screen(self.desk))
        if self.use_feed:
            self.feed = ChangeFeed(self.desk.store.conn, self.desk.store.path)
            self.run_worker(self._pump(), exclusive=True, group="feed")
        else:
            # still tell screens about our own commits (feed_poke), without a watcher
            self.feed = ChangeFeed(self.desk.store.conn, self.desk.store.path)

    async def _pump(self) -> None:
        assert self.feed is not None
        async for batch in self.feed.batches():
            self.batches += 1
            for screen in list(self.screen_stack):
                screen.post_message(StoreChanged(batch))

    def get_system_commands(self, screen: Screen):  # noqa: ANN201 - as OrderqApp: one palette
        from tui.palette import commands

        yield from commands(self, screen, super().get_system_commands(screen))

    def feed_poke(self) -> None:
        if self.feed is None:
            return
        if self.use_feed:
            self.feed.poke()
        else:
            batch = self.feed.pending()
            if batch:
                for screen in list(self.screen_stack):
                    screen.post_message(StoreChanged(batch))

    async def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        await asyncio.sleep(0)


KEY_NAMES = {"enter", "escape", "backspace", "delete", "tab", "up", "down", "left", "right", "home", "end",
             "pageup", "pagedown", "space"}


def is_key_name(k: str) -> bool:
    return k in KEY_NAMES or "+" in k or (k[0] == "f" and k[1:].isdigit())


async def press(pilot, *keys: str) -> None:  # noqa: ANN001
    """Like pilot.press, but an item of several characters that is not a key name is *typed*: its
    characters go in as the same key events, in order, without Pilot's idle wait after each (~70 ms).
    Single characters and named keys go one at a time, as they may move focus or open a screen.
    """
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for k in keys:
        if len(k) > 1 and not is_key_name(k):
            for ch in k:
                ev = events.Key(ch if ch.isalnum() else _character_to_key(ch), ch)
                ev.set_sender(app)
                app._driver.send_message(ev)
            await pilot.pause()
        else:
            await pilot.press(k)


def grouped(keys: list[str]) -> list[str]:
    """Runs of single characters joined into typed text for `press` (the keys themselves are unchanged)."""
    out: list[str] = []
    run = ""
    for k in keys:
        if len(k) == 1:
            run += k
            continue
        if run:
            out.append(run)
            run = ""
        out.append(k)
    if run:
        out.append(run)
    return out


async def burst(pilot, keys: list[str]) -> None:  # noqa: ANN001
    """Every key at once, as a fast typist or a laggy SSH link delivers them: no waiting in between."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for k in keys:
        if k == "enter":
            ev = events.Key("enter", "\r")
        elif len(k) == 1:
            ev = events.Key(k if k.isalnum() else _character_to_key(k), k)
        else:
            ev = events.Key(k, None)
        ev.set_sender(app)
        app._driver.send_message(ev)
    await pilot.pause()
