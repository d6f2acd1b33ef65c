"""The sender of `webhook` deliveries (written by db.webhooks): POST the stored body, signed, to the hook's URL.

- The body is sent exactly as stored (the bytes the signature covers), `Content-Type: application/json`,
  with `X-Orderq-Signature: sha256=HEX` (HMAC-SHA256 with the hook's secret, read at each try so that a
  hook removed meanwhile is never sent to), `X-Orderq-Event`, `X-Orderq-Event-Id` and
  `X-Orderq-Delivery`.
- A 2xx answer is sent. Anything else — another status, a redirect (not followed: the hook's URL is the
  one an admin typed), a refused connection, no answer within core.webhooks.TIMEOUT_S — is a failed try,
  retried by the outbox's back-off (core.delivery: 1 s doubling to 30 s, for 24 h, then failed).
- No HTTP proxy is used, whatever the environment says: receivers are named by the admin, often on the
  LAN or this machine, and a proxy picked up from a shell's environment would send them elsewhere.
- Each try's status code or error goes to the hook's log (`orderq webhooks log`), in a short write of its
  own; if that write cannot be made the delivery's outcome still is.
"""
from __future__ import annotations

import http.client
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from core.webhooks import ANSWER_SNIPPET, SIGNATURE_HEADER, TIMEOUT_S, sign
from db import webhooks
from db.connection import StoreError
from db.deliver import SendContext, Sender, SendFailed, register

if TYPE_CHECKING:
    from db.outbox import Delivery

log = logging.getLogger("orderq.deliver")
USER_AGENT = "orderq-webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kw):  # noqa: ANN002, ANN003, ANN202 - urllib's signature
        return None  # urllib then raises HTTPError with the 3xx: a failed try


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post(url: str, raw: bytes, headers: dict[str, str], timeout: float = TIMEOUT_S) -> tuple[int | None, str | None]:
    """One POST: (status, None) on a 2xx, else (status or None, why)."""
    req = urllib.request.Request(url, data=raw, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read(ANSWER_SNIPPET)
            status = resp.status
    except urllib.error.HTTPError as e:
        try:
            text = e.read(ANSWER_SNIPPET).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            text = ""
        return e.code, f"HTTP {e.code} {e.reason}" + (f": {text}" if text.strip() else "")
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return None, f"no answer within {timeout:g} s"
        return None, f"cannot reach {url}: {getattr(reason, 'strerror', None) or reason}"
    except (TimeoutError, socket.timeout):
        return None, f"no answer within {timeout:g} s"
    except (OSError, http.client.HTTPException) as e:
        return None, f"cannot reach {url}: {getattr(e, 'strerror', None) or e or type(e).__name__}"
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


def send_webhook(ctx: SendContext, d: Delivery) -> None:
    hook_id = int(d.payload.get("webhook") or 0)
    store = ctx.store
    with store.read() as c:
        hook = webhooks.for_sending(c, hook_id)
    if hook is None or hook["removed_at"] is not None:
        raise SendFailed(f"webhook {hook_id} was removed", permanent=True)
    if not hook["active"]:
        raise SendFailed(f"partner {hook['partner']} is disabled (retried until it is enabled again)")
    raw = str(d.payload.get("body", "")).encode("utf-8")
    headers = {SIGNATURE_HEADER: sign(hook["secret"], raw), "X-Orderq-Event": str(d.payload.get("event", "")),
               "X-Orderq-Event-Id": str(d.payload.get("event_id", "")), "X-Orderq-Delivery": str(d.id)}
    started = time.monotonic()
    status, error = post(d.target, raw, headers)
    try:
        with store.write() as c:
            webhooks.record_try(c, d.id, at=store.now(), status=status, error=error,
                                duration_ms=(time.monotonic() - started) * 1000)
    except StoreError as e:
        log.warning("delivery %s: the try's log line was not written: %s", d.id, e)
    if error is not None:
        raise SendFailed(error)


def _what(d: Delivery) -> str:
    return str(d.payload.get("event") or "webhook")


register(Sender(kind=webhooks.KIND, send=send_webhook, what=_what))
