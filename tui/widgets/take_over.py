"""The one question both the queue (`u`) and the order screen (`c`) ask about your own claim held
by another of your sessions: this session has no token for it, and a TUI user cannot type one, so
it offers to move the claim here instead (OrderService.take_over)."""
from __future__ import annotations

from tui.widgets.note_dialog import Confirm


def take_over_confirm(number: str) -> Confirm:
    return Confirm(f"{number} is claimed by you in another session. Take it over here? "
                   "The other session can then no longer change it.", "Enter: take it over", "Esc: leave it")
