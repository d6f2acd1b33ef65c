"""How a screen follows the change feed cheaply (issue 14: a hundred sessions on one host).

Every session gets every change, so what a change costs one session is paid a hundred times:
- `Coalesce`: a burst of changes is drawn at most once per `interval`; the last change of a burst
  is never dropped (a timer at the end of the slot draws it);
- `FEED_GAP_S`: the app reads the feed itself at most that often (a burst is one batch);
- `LiveScreen`: a screen under another (not just under a dialog) draws nothing: it is marked stale
  and refreshes once when it is shown again.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.screen import ModalScreen, Screen

#: at most this many redraws a second for live changes
LIVE_INTERVAL_S = 0.25
#: the app reads the change feed at most once per this (ChangeFeed.min_gap; its own commits at
#: once): at 5 changes a second or more a session reads and draws about 3 times a second, and a
#: change still shows within about this plus one draw (budget: p95 500 ms)
FEED_GAP_S = 0.45


class Coalesce:
    """Call `fn` now, or once at the end of the current slot: throttled, never dropped."""

    def __init__(self, owner: Any, fn: Callable[[], None], interval: float = LIVE_INTERVAL_S) -> None:
        self.owner = owner  # anything with set_timer (a widget or screen)
        self.fn = fn
        self.interval = interval
        self._last = float("-inf")
        self._timer = None

    def __call__(self) -> None:
        if self._timer is not None:
            return  # the pending call will see this change too
        wait = self.interval - (time.monotonic() - self._last)
        if wait <= 0:
            self._run()
        else:
            self._timer = self.owner.set_timer(wait, self._deferred)

    def _deferred(self) -> None:
        self._timer = None
        self._run()

    def _run(self) -> None:
        self._last = time.monotonic()
        self.fn()

    def now(self) -> None:
        """Draw at once (the user asked, or the screen came back): any pending call is folded in."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._run()


def shown(screen: Screen) -> bool:
    """Is the screen on view: the top one, or under dialogs only?"""
    try:
        stack = screen.app.screen_stack
    except Exception:  # noqa: BLE001 - not mounted (yet / any more)
        return False
    if screen not in stack:
        return False
    return all(isinstance(s, ModalScreen) for s in stack[stack.index(screen) + 1:])


class LiveScreen:
    """Mixin for a Screen: `live_changed()` from on_store_changed draws via `live_refresh` when on
    view, coalesced; when hidden it only marks the screen stale, and showing it again refreshes."""

    _live: Coalesce | None = None
    _stale = False
    #: the most often this screen redraws for live changes
    LIVE_INTERVAL = LIVE_INTERVAL_S

    def live_refresh(self, full: bool) -> None:  # provided by the screen
        """Draw what changed; `full`: the screen was hidden meanwhile (changes or the clock moved)."""
        raise NotImplementedError

    def _coalesce(self) -> Coalesce:
        if self._live is None:
            self._live = Coalesce(self, self._live_run, self.LIVE_INTERVAL)
        return self._live

    def _live_run(self) -> None:
        if not shown(self):  # type: ignore[arg-type]
            self._stale = True
            return
        full, self._stale = self._stale, False
        self.live_refresh(full)

    def unaffected_by(self, batch: list[Any]) -> bool:
        """Asked by the app before it posts StoreChanged: True when, from the events alone, the
        batch changes nothing this screen shows (no message is posted: a message costs the session
        Textual's whole message handling, for nothing). False: unsure, post it."""
        return False

    def mark_stale(self) -> None:
        """Changes came while hidden: refresh in full when shown again (the app calls this rather
        than posting to a screen below the top one)."""
        self._stale = True

    def live_changed(self) -> None:
        if not shown(self):  # type: ignore[arg-type]
            self._stale = True
            return
        self._coalesce()()

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        if self._stale:
            self._coalesce().now()
