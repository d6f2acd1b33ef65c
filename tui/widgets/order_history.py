"""An order's events in the words a rep would use: the history table on the order screen, and the
notification when another session changes the order being looked at, say the same thing."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.delivery import HISTORY_ACTION as DELIVERY_EVENT, describe as delivery_words
from core.labels import channel_label, hold_label
from core.models import Event


def _hold(d: dict[str, Any]) -> str:
    return f"put it on hold ({hold_label(d.get('reason'))}" + (f": {d['note']}" if d.get("note") else "") + ")"


def _ship(d: dict[str, Any]) -> str:
    units = d.get("shipped") or {}
    what = ", ".join(f"line {k} ×{v}" for k, v in units.items())
    return ("shipped it" if d.get("complete", True) else "shipped part of it") + (f" ({what})" if what else "")


def _stock_allocated(d: dict[str, Any]) -> str:
    left = d.get("backordered")
    return "set received stock aside for it" + (f" ({left} still on backorder)" if left else " (ready to ship)")


#: each action's words: a fixed phrase, or built from the event's data. WHY a table: one row an action,
#: so a new action is one line here, and the words of all of them read together
_WORDS: dict[str, str | Callable[[dict[str, Any]], str]] = {
    "claim": "claimed it",
    "unclaim": "gave it back to the queue",
    "lease_expired": "ended a lapsed claim",
    "force_release": lambda d: f"force-released the claim ({d.get('reason') or 'no reason'})",
    "reassign": lambda d: f"reassigned it to {d.get('to')}",
    "hold": _hold,
    "unhold": lambda d: f"took it off hold ({d.get('note')})",
    "tick": lambda d: f"ticked '{d.get('step')}'",
    "untick": lambda d: f"unticked '{d.get('step')}'",
    "lines_changed": lambda d: f"changed the lines (total {d.get('total')})",
    "release": "released it to fulfilment",
    "auto_release": "released it straight through",
    "ship": _ship,
    "stock_allocated": _stock_allocated,
    "cancel": lambda d: f"cancelled it ({d.get('reason')})",
    "override": lambda d: f"overrode its class/due ({d.get('reason')})",
    DELIVERY_EVENT: delivery_words,
    "created": lambda d: f"created it ({channel_label(d.get('channel'))}, {d.get('type')}, {d.get('lines')} lines)",
    "edi_ack_sent": lambda d: f"sent the {d.get('document')} {d.get('control')} to the partner's outbox",
    "edi_ack_queued": lambda d: f"queued the {d.get('document')} {d.get('control')} for the partner",
    "edi_item_mapped": lambda d: f"mapped partner item {d.get('code')} ({d.get('qualifier')}) to {d.get('sku')}",
}


def describe(e: Event) -> str:
    """One event in the words a rep would use (an action without words: its name, spaced)."""
    words = _WORDS.get(e.action)
    if words is None:
        return e.action.replace("_", " ")
    return words if isinstance(words, str) else words(e.data)
