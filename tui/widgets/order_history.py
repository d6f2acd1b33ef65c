"""An order's events in the words a rep would use: the history table on the order screen, and the
notification when another session changes the order being looked at, say the same thing."""
from __future__ import annotations

from core.delivery import HISTORY_ACTION as DELIVERY_EVENT, describe as delivery_words
from core.labels import channel_label, hold_label
from core.models import Event


def describe(e: Event) -> str:
    """One event in the words a rep would use."""
    d = e.data
    a = e.action
    if a == "claim":
        return "claimed it"
    if a == "unclaim":
        return "gave it back to the queue"
    if a == "lease_expired":
        return "ended a lapsed claim"
    if a == "force_release":
        return f"force-released the claim ({d.get('reason') or 'no reason'})"
    if a == "reassign":
        return f"reassigned it to {d.get('to')}"
    if a == "hold":
        return f"put it on hold ({hold_label(d.get('reason'))}" + (f": {d['note']}" if d.get("note") else "") + ")"
    if a == "unhold":
        return f"took it off hold ({d.get('note')})"
    if a == "tick":
        return f"ticked '{d.get('step')}'"
    if a == "untick":
        return f"unticked '{d.get('step')}'"
    if a == "lines_changed":
        return f"changed the lines (total {d.get('total')})"
    if a == "release":
        return "released it to fulfilment"
    if a == "auto_release":
        return "released it straight through"
    if a == "ship":
        units = d.get("shipped") or {}
        what = ", ".join(f"line {k} ×{v}" for k, v in units.items())
        return ("shipped it" if d.get("complete", True) else "shipped part of it") + (f" ({what})" if what else "")
    if a == "stock_allocated":
        left = d.get("backordered")
        return "set received stock aside for it" + (f" ({left} still on backorder)" if left else " (ready to ship)")
    if a == "cancel":
        return f"cancelled it ({d.get('reason')})"
    if a == "override":
        return f"overrode its class/due ({d.get('reason')})"
    if a == DELIVERY_EVENT:
        return delivery_words(d)
    if a == "created":
        return f"created it ({channel_label(d.get('channel'))}, {d.get('type')}, {d.get('lines')} lines)"
    if a == "edi_ack_sent":
        return f"sent the {d.get('document')} {d.get('control')} to the partner's outbox"
    if a == "edi_ack_queued":
        return f"queued the {d.get('document')} {d.get('control')} for the partner"
    if a == "edi_item_mapped":
        return f"mapped partner item {d.get('code')} ({d.get('qualifier')}) to {d.get('sku')}"
    return a.replace("_", " ")
