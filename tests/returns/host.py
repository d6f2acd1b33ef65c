"""A small stand-in for OrderqApp with the contract the returns screens use (tests only):
`app.desk`, `app.claims` (add/remove/token_for) and `app.feed_poke()` telling screens of new events."""
from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Label

from db import events
from db.service import Desk
from tui.messages import StoreChanged


class Claims:
    def __init__(self) -> None:
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


class HostApp(App):
    def __init__(self, desk: Desk, make_screen: Callable[[Desk], Screen]) -> None:
        super().__init__()
        self.desk = desk
        self.claims = Claims()
        self.make_screen = make_screen
        self.cursor = events.last_id(desk.store.conn)

    def on_mount(self) -> None:
        self.push_screen(Home())
        self.push_screen(self.make_screen(self.desk))

    def feed_poke(self) -> None:
        batch = events.since(self.desk.store.conn, self.cursor)
        if batch:
            self.cursor = batch[-1].id
            for screen in list(self.screen_stack):
                screen.post_message(StoreChanged(batch))
