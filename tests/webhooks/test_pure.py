"""core.webhooks: the URLs a hook may have and the signature a receiver checks."""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from core.webhooks import WebhookInputError, body, check_url, parse_events, sign, verify


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://wms.example.com/orderq?site=2",
                                 "http://[::1]:9000/h", "http://warehouse.lan/h"])
def test_loopback_lan_and_public_http_and_https_urls_are_allowed(url: str) -> None:
    assert check_url(f"  {url} ") == url


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "http://h/a b", "http://h/#frag",
                                 "http://h:0x50/", "https://" + "a" * 2001])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(WebhookInputError):
        check_url(url)


def test_events_are_named_once_in_a_fixed_order() -> None:
    assert parse_events("order.shipped, order.released,order.shipped") == ["order.released", "order.shipped"]


def test_the_signature_is_the_hex_hmac_sha256_of_the_exact_body() -> None:
    raw = body(event="order.released", event_row_id=7, occurred_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
               about="order", view={"number": "SO-000001"}).encode()
    assert raw == (b'{"event":"order.released","event_id":"evt_7","occurred_at":"2026-12-01T09:30:00.000Z",'
                   b'"order":{"number":"SO-000001"}}')
    want = "sha256=" + hmac.new(b"s" * 16, raw, hashlib.sha256).hexdigest()
    assert sign("s" * 16, raw) == want and verify("s" * 16, raw, want)
    assert not verify("s" * 16, raw + b" ", want) and not verify("s" * 16, raw, None)
