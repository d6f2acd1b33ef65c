"""What a screen may ask of the app it runs in, without importing it: the session's claims and
"refresh after my own commit". OrderqApp and the test hosts both provide them; a bare host may not."""
from __future__ import annotations

from typing import Any


def claims_of(app: Any) -> Any | None:
    """The session's claim registry (add/remove/token_for), or None."""
    return getattr(app, "claims", None)


def poke(app: Any) -> None:
    """After this session's own commit: let every screen refresh now."""
    fn = getattr(app, "feed_poke", None)
    if fn:
        fn()
