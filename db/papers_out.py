"""The papers as deliveries: what an accepted order owes the customer and the warehouse, by the rules.

"Accepted" is the release (a rep's, or straight through at entry or import): WHY not entry — the
acknowledgment quotes the lines, prices, ship-to and expected date that the rep's checklist confirms
("confirm pricing", "confirm ship-to"); before release they may still change, and a queued order may
still be cancelled. So at release, in the release's own transaction:
- rules `papers.outbox` set: two `file` deliveries, the acknowledgment and the pick ticket;
- rules `smtp.host` set: one `mail` delivery of the acknowledgment to the order's contact email. An order
  without one gets a delivery written `failed` ("the order has no contact email") and a history event,
  so it is visible (`orderq deliveries`, the wallboard) without a retry loop.
The worker renders each paper from the order when it sends it (db.deliver.papers); after release the
lines and header no longer change, and the acknowledgment is dated by the delivery's `created_at`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from core.delivery import HISTORY_ACTION, PAPERS
from db.dbapi import Connection
from db import events, outbox

if TYPE_CHECKING:
    from core.rules import Rules

NO_EMAIL = "the order has no contact email"


def contact_email(contact_json: str | None) -> str | None:
    try:
        contact = json.loads(contact_json) if contact_json else None
    except ValueError:
        return None
    email = (contact or {}).get("email") if isinstance(contact, dict) else None
    return email.strip() if isinstance(email, str) and email.strip() else None


def on_release(c: Connection, rules: Rules, order_ids: Iterable[int], now: datetime) -> int:
    """Write the deliveries the rules ask for, for each order just released; inside the release's write
    transaction (after the order rows exist). Returns how many were written. Costs nothing when the rules
    name neither an outbox folder nor a mail server."""
    if not (rules.papers.enabled or rules.smtp.enabled):
        return 0
    written = 0
    for oid in order_ids:
        row = c.execute("SELECT id, number, contact FROM orders WHERE id = ?", (oid,)).fetchone()
        about = {"entity": "order", "entity_id": row["id"], "ref": row["number"]}
        if rules.papers.enabled:
            for paper in PAPERS:
                outbox.enqueue(c, kind="file", target=rules.papers.outbox, now=now, **about,
                               payload={"paper": paper, "number": row["number"], "format": rules.papers.format})
                written += 1
        if rules.smtp.enabled:
            email = contact_email(row["contact"])
            payload = {"paper": "ack", "number": row["number"]}
            outbox.enqueue(c, kind="mail", target=email or "", payload=payload, now=now, **about,
                           failed_because=None if email else NO_EMAIL)
            written += 1
            if not email:
                events.append(c, at=now, actor="system", action=HISTORY_ACTION, **about,
                              data={"kind": "mail", "what": PAPERS["ack"], "target": "", "outcome": "skipped",
                                    "error": NO_EMAIL})
    return written
