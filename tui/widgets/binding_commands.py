"""A command-palette provider listing the keys of the screen it was opened from.

Textual's palette does not list bindings by itself; a screen adds `COMMANDS = {BindingCommands}` and
every binding with a description (shown in the footer or not) becomes a palette command, named by
its description with the key and id as help, and running the same action as the key.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class BindingCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, object]]:
        screen = self.screen
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description or not active.enabled or b.id in seen or active.node is self.app:
                continue
            seen.add(b.id or f"{b.action}@{key}")
            keys = b.key_display or self.app.get_key_display(b)
            help_text = f"{keys}  ·  {b.id}" if b.id else keys
            if b.tooltip:
                help_text = f"{b.tooltip}  ·  {help_text}"
            yield b.description if b.show else (b.tooltip or b.description), help_text, partial(self.app.run_action, b.action, active.node)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(f"{name} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
