"""The command palette (ctrl+p): one list, built by the app for whatever screen it is opened on.

First the keys of that screen, runnable (the description, its key and id as help; a hidden key is
named by its tooltip). Then what the other screens can do, so "hold" on the queue finds Hold:
those entries say where the action lives and how to get there, and choosing one says so. A
screen the role may not open is left out. (Screens used to add their own provider as well,
which listed every key twice.)
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.app import OrderqApp

#: where each screen is, in the words of the keys that reach it
REACH = {
    "queue": ("the orders queue", "the first screen; escape goes back to it"),
    "order": ("an order", "enter on an order in the queue, or c to claim the next"),
    "entry": ("order entry", "n on the queue"),
    "returns": ("the returns queue", "r on the queue"),
    "return": ("a return", "enter on a return in the returns queue"),
    "return-entry": ("a new return", "n on the returns queue"),
    "wallboard": ("the wallboard", "w on the queue"),
}


def _named(b: Binding) -> bool:
    return bool(b.description and b.id) and b.action not in ("command_palette", "app.command_palette")


def here(app: OrderqApp, screen: Screen) -> Iterator[SystemCommand]:
    """The keys of the screen the palette was opened on, each running its action."""
    seen: set[str] = set()
    for _key, active in screen.active_bindings.items():
        b = active.binding
        if not _named(b) or not active.enabled or b.id in seen:
            continue
        seen.add(b.id or "")
        title = b.description if b.show else (b.tooltip or b.description)
        keys = b.key_display or app.get_key_display(b)
        yield SystemCommand(title, f"key: {keys}  ({b.id})", partial(app.run_action, b.action, active.node))


def elsewhere(app: OrderqApp, screen: Screen, titles: set[str]) -> Iterator[SystemCommand]:
    """What the other screens offer, as directions: choosing one tells the user where it is."""
    from tui.screen_registry import SCREEN_PERMISSION, SCREENS, screen_class

    keymap = getattr(app, "_keymap", {}) or {}
    for name, (module, cls_name) in SCREENS.items():
        cls = screen_class(module, cls_name)
        if cls is None or isinstance(screen, cls):
            continue
        need = SCREEN_PERMISSION.get(name)
        if need is not None and not app.desk.ctx.can(need):
            continue
        where, how = REACH.get(name, (name, ""))
        seen: set[str] = set()
        for b in cls.BINDINGS:
            if not isinstance(b, Binding) or not _named(b) or not b.show or b.id in seen:
                continue
            seen.add(b.id or "")
            if b.description in titles or b.action in ("back", "app.quit"):
                continue  # here already, or only meaningful on its own screen
            keys = b.key_display or keymap.get(b.id or "", b.key).split(",")[0]
            tell = f"{b.description} is on {where} (key {keys}): {how}"
            yield SystemCommand(f"{b.description} — on {where}", f"key {keys} there; get there: {how}",
                                partial(app.notify, tell, title="Elsewhere", timeout=8))


def commands(app: OrderqApp, screen: Screen, builtin: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """The whole palette: this screen's keys, the other screens' directions, then Textual's own."""
    titles: set[str] = set()
    for cmd in here(app, screen):
        titles.add(cmd.title)
        yield cmd
    yield from elsewhere(app, screen, titles)
    for cmd in builtin:
        if cmd.title not in titles:
            yield cmd
