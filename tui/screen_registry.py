"""The screens the app opens by name (`OpenScreen("order", …)`), where each role starts, and which need a
permission: one table, read by the app (tui.app) and the palette (tui.palette).

WHY by name: screens never import each other or the app (a contract in pyproject.toml); only the app
imports them, through here, and a screen whose module has not landed yet is simply not offered.
"""
from __future__ import annotations

import importlib
from typing import Any

from textual.screen import Screen

from core.permissions import Action
from db.service import Desk

#: screens the app can open by name: (module under tui.screens, class name). Screens ask for one
#: with the OpenScreen message; only the app imports them (a contract in pyproject.toml)
SCREENS = {
    "queue": ("queue", "QueueScreen"),
    "returns": ("returns", "ReturnsScreen"),
    "wallboard": ("wallboard", "WallboardScreen"),
    "order": ("order", "OrderScreen"),
    "entry": ("entry", "EntryScreen"),
    "return": ("return_process", "ReturnProcessScreen"),
    "return-entry": ("return_entry", "ReturnEntryScreen"),
}
#: where each role starts when no --screen is given: its own work
HOME_SCREEN = {"returns": "returns"}
#: screens a session may start on (`--screen`)
FIRST_SCREENS = ("queue", "returns", "wallboard")
#: screens only some roles may open (checked by the service layer's permission, and logged if refused)
SCREEN_PERMISSION = {"wallboard": Action.WALLBOARD}


def build_screen(desk: Desk, name: str, *args: Any) -> Screen | None:
    """The screen named in SCREENS, made for this desk; None while its module has not landed."""
    module, cls_name = SCREENS[name]
    cls = screen_class(module, cls_name)
    return cls(desk, *args) if cls is not None else None


def screen_class(module: str, name: str) -> type | None:
    """A screen class from tui.screens.<module>, or None while that screen's branch has not landed."""
    full = f"tui.screens.{module}"
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as e:
        if e.name == full:
            return None
        raise
    return getattr(mod, name, None)
