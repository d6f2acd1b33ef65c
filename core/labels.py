"""The one human label of each stored value a user sees: order states, channels, hold reasons.

The enums' values are what the database, the rules file and JSON carry (`in_progress`,
`walk_in`); people read "in progress" and "walk-in". Every text face (TUI and the CLI's text
output) labels through here, so one state never reads three ways on three screens.
"""
from __future__ import annotations

from core.enums import Channel, HoldReason, OrderState, Role

STATE: dict[str, str] = {
    OrderState.QUEUED: "queued",
    OrderState.IN_PROGRESS: "in progress",
    OrderState.ON_HOLD: "on hold",
    OrderState.RELEASED: "released",
    OrderState.BACKORDERED: "backordered",
    OrderState.SHIPPED: "shipped",
    OrderState.CLOSED: "closed",
    OrderState.CANCELLED: "cancelled",
}
CHANNEL: dict[str, str] = {
    Channel.PHONE: "phone", Channel.FAX: "fax", Channel.EMAIL: "email", Channel.ONLINE: "online",
    Channel.EDI: "edi", Channel.WALK_IN: "walk-in",
}
HOLD: dict[str, str] = {
    HoldReason.CREDIT: "credit", HoldReason.STOCK: "stock", HoldReason.CUSTOMER_INFO: "customer info",
    HoldReason.PRICING: "pricing", HoldReason.CUSTOMER_REQUEST: "customer request",
}
#: a role as a person ("alice is a rep") and as a group ("only supervisors can …")
ROLE_PERSON: dict[str, str] = {
    Role.REP: "a rep", Role.RETURNS: "a returns clerk", Role.SUPERVISOR: "a supervisor", Role.ADMIN: "an admin",
}
ROLE_GROUP: dict[str, str] = {
    Role.REP: "reps", Role.RETURNS: "returns clerks", Role.SUPERVISOR: "supervisors", Role.ADMIN: "admins",
}


def _label(table: dict[str, str], value: object) -> str:
    text = "" if value is None else str(getattr(value, "value", value))
    return table.get(text, text.replace("_", " "))


def state_label(state: object) -> str:
    """'in progress' for in_progress; an unknown value shown with its underscores as spaces."""
    return _label(STATE, state)


def channel_label(channel: object) -> str:
    return _label(CHANNEL, channel)


def hold_label(reason: object) -> str:
    return _label(HOLD, reason)


def state_text(state: object, hold_reason: object = None) -> str:
    """An order's state as one phrase: 'on hold (stock)' names the hold."""
    text = state_label(state)
    if str(getattr(state, "value", state)) == OrderState.ON_HOLD and hold_reason:
        text += f" ({hold_label(hold_reason)})"
    return text


def _join(words: list[str], last: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def or_list(words: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return _join(words, "or")


def and_list(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return _join(words, "and")
