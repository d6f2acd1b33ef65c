"""Keys a role may not use are not offered: not in the footer, the palette or F1, and not run.

A screen mixes in `RoleKeys` and names the permission each of its actions needs in `NEEDS`
(an action name, or `(action, first parameter)` for a parameterised one such as
`bulk('approve')`). Textual asks `check_action` before it shows or runs a binding; False hides
it. The service layer still checks every command (and logs refusals): this only stops the
screen from offering a key that would be refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.permissions import Action


class RoleKeys:
    #: action (or (action, first parameter)) -> the permission it needs
    NEEDS: ClassVar[Mapping[str | tuple[str, Any], Action]] = {}

    def may(self, action: str, parameters: tuple[object, ...] = ()) -> bool:
        """May this session's user take `action`? True when the screen names no permission for it."""
        need = self.NEEDS.get((action, parameters[0])) if parameters else None
        need = need or self.NEEDS.get(action)
        desk = getattr(self, "desk", None)
        return need is None or desk is None or desk.ctx.can(need)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.may(action, parameters):
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]
