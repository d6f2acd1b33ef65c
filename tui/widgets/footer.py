"""A Footer that redraws only when the keys it shows change.

Textual's Footer recomposes on every focus change; moving between the fields of one form keeps
the same keys, so that work (a full layout per Enter) is skipped here.
"""
from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    _shown: tuple | None = None

    def bindings_changed(self, screen: Screen) -> None:
        shown = tuple(
            (key, b.action, b.description, b.key_display, enabled)
            for key, (_node, b, enabled, _tip) in screen.active_bindings.items()
            if b.show
        )
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)
