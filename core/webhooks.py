"""Outbound webhooks' vocabulary and arithmetic: which events exist, which URLs may receive them, the
body and its signature.

Pure (no I/O; the clock is passed in). The outbox (db.outbox) carries each message; this module only
says what a message is, so that the worker's sender (db.deliver.webhook), the subscriptions (db.webhooks)
and a receiver's own check (`verify`) agree byte for byte.

WHY the body is fixed when the event happens (and stored in the delivery): the receiver is told what was
true at that moment ("released, these lines"), and every retry sends the same bytes under the same
signature, so a receiver that de-duplicates on `event_id` never sees two versions of one event.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

#: the events a partner can subscribe to, in the words of the issue (and of the receivers' code)
EVENTS = ("order.released", "order.shipped", "order.cancelled", "return.resolved", "edi.ack")
#: sent only for an interchange the partner posted to the API (`POST /v1/edi`), only to its own hooks
EDI_ACK = "edi.ack"
#: the header that carries the signature: "sha256=" + hex HMAC-SHA256 of the raw body
SIGNATURE_HEADER = "X-Orderq-Signature"
#: one try waits at most this long for the receiver's answer (a timeout is a failed try, retried)
TIMEOUT_S = 10.0
#: a receiver's answer kept in the log: enough to read an error page's first line, never a whole page
ANSWER_SNIPPET = 200
#: the longest URL accepted (browsers' practical limit; a longer one is a mistake)
URL_MAX = 2000
#: how many tries of one delivery `webhooks log` keeps in detail (the count of all is on the delivery)
TRIES_KEPT = 10


class WebhookInputError(ValueError):
    """Bad subscription input; `field` names the flag at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_events(text: str) -> list[str]:
    """"order.released,order.shipped" -> the events, each once, in EVENTS' order; an unknown one is refused."""
    wanted = {e.strip() for e in (text or "").split(",") if e.strip()}
    if not wanted:
        raise WebhookInputError(f"name at least one event ({', '.join(EVENTS)})", "events")
    unknown = sorted(wanted - set(EVENTS))
    if unknown:
        raise WebhookInputError(f"unknown event {unknown[0]!r} (known: {', '.join(EVENTS)})", "events")
    return [e for e in EVENTS if e in wanted]


def check_url(url: str) -> str:
    """A receiver's URL: http or https, with a host, no user:password (it would be shown by `webhooks
    list` and logged), no fragment. Any host is allowed, loopback and private addresses included: WHY —
    the warehouse system is often on the LAN or the same machine, and only an admin or the operator
    (who holds the database file) can add a webhook, so there is no untrusted caller to guard against."""
    url = (url or "").strip()
    if not url or len(url) > URL_MAX or not url.isprintable() or " " in url:
        raise WebhookInputError(f"{url[:80]!r} is not a URL", "url")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        raise WebhookInputError(f"{url[:80]!r} is not a URL (bad host or port)", "url") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookInputError(f"{url[:80]!r}: a webhook URL is http:// or https://", "url")
    if not parts.hostname:
        raise WebhookInputError(f"{url[:80]!r} names no host", "url")
    if parts.username is not None or parts.password is not None:
        raise WebhookInputError("a webhook URL may not carry a user or password (the body is signed instead)", "url")
    if parts.fragment:
        raise WebhookInputError(f"{url[:80]!r}: a webhook URL has no #fragment", "url")
    del port
    return url


def event_id(event_row_id: int) -> str:
    """The id a receiver de-duplicates on: the audit event that caused it (one per event, whichever
    hook or try carries it)."""
    return f"evt_{event_row_id}"


def body(*, event: str, event_row_id: int, occurred_at: datetime, about: str, view: dict[str, Any],
         extra: dict[str, Any] | None = None) -> str:
    """The JSON text sent (and signed): event id, event type, when, and the order or return (`about`)
    as the API shows it. Compact and key-sorted, so the same event always gives the same bytes."""
    doc: dict[str, Any] = {"event_id": event_id(event_row_id), "event": event,
                           "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           about: view}
    if extra:
        doc.update(extra)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(secret: str, raw: bytes) -> str:
    """The signature header's value for `raw` (the body's exact bytes)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def verify(secret: str, raw: bytes, header: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return bool(header) and hmac.compare_digest(sign(secret, raw), header.strip())
