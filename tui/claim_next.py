"""Claiming the next order within the rep's view: `c` on the queue, release-and-next (`n`) on the
order screen (issue 13, item 6).

Both take the filter of the queue screen under them, the same QueueFilter object the queue paints
from, and hand it to the claim-next service call: a rep working "class P1 · channel edi" never
gets an order from outside it, and an empty view says so instead of claiming elsewhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.service import Desk
    from db.service.claiming import Claimed


def queue_screen(app: Any) -> Any | None:
    """The queue screen in the app's stack (the rep's home), if any."""
    for screen in reversed(app.screen_stack):
        if getattr(screen, "SCREEN_NAME", None) == "queue":
            return screen
    return None


def nothing_text(queue: Any | None) -> str:
    view = queue.view_state.describe() if queue is not None else "open work"
    if view == "open work":
        return "Nothing is queued: there is no order to claim."
    return f"Nothing queued in this view ({view}): no order to claim. f changes the filter."


def claim_in_view(app: Any, desk: Desk) -> Claimed | None:
    """Claim the next order the rep's view holds, register the claim with the session and put the
    queue's cursor on it; None (and a word to the rep) when the view has nothing queued.
    A refusal (OrderqError) is the caller's to show."""
    queue = queue_screen(app)
    got = desk.orders.claim_next(queue.source.filter if queue is not None else None)
    if got is None:
        app.notify(nothing_text(queue))
        return None
    app.claims.add("orders", got.number, got.claim_token)
    if queue is not None:
        queue.view.select_id(got.id)
    poke = getattr(app, "feed_poke", None)
    if poke is not None:
        poke()
    return got
