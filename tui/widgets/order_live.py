"""How the order screen follows other sessions' changes to its order, cheaply (issue 14).

Every session gets every change, so the order screen's share must be small:
- a change to another order costs nothing: the events name their order, and nothing is read;
- changes to this order are drawn coalesced (tui.live.LiveScreen): a burst is one read and one
  repaint of the parts that changed, and a screen under another only refreshes when shown again;
- who changed it is still said, in one notice per NOTICE_S at most (a burst's changes listed
  together): one toast per change piled up a stack of toasts, each laid out and timed on its own,
  and cost the session more than everything else it drew (47 ms of CPU per change at 5 a second).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.live import Coalesce, LiveScreen
from tui.messages import StoreChanged
from tui.widgets.order_history import describe

if TYPE_CHECKING:
    from core.models import Event

#: the most often the screen says who changed its order (each notice lists what came since the last)
NOTICE_S = 2.0
#: the most changes one notice lists; the rest are counted
NOTICE_LINES = 3
#: what another session did that the rep must not miss: said as a warning
WARN_ACTIONS = frozenset({"claim", "force_release", "reassign", "cancel", "hold", "lease_expired"})


def notice_text(events: list[Event]) -> str:
    """One notice for a burst of other people's changes: each in a rep's words, once, the latest last."""
    lines: list[str] = []
    for e in events:
        line = f"{e.actor} {describe(e)}"
        if line in lines:
            lines.remove(line)
        lines.append(line)
    shown = lines[-NOTICE_LINES:]
    more = len(lines) - len(shown)
    return "\n".join(([f"… {more} more change{'s' if more > 1 else ''}, then:"] if more else []) + shown)


class FollowsOrder(LiveScreen):
    """Mixin for the order screen (which provides `order`, `number`, `me`, `mine`, `_fresh_at`,
    `reload()` and `notify()`)."""

    _pending: list[Event] | None = None
    _unsaid: list[Event] | None = None
    _notices: Coalesce | None = None
    _had_claim = False

    def _mine(self, batch: list[Event]) -> list[Event]:
        o: Any = self
        return [e for e in batch if e.entity == "order" and (e.entity_id == o.order.id or e.ref == o.number)]

    def unaffected_by(self, batch: list[Event]) -> bool:
        """Nothing in the batch names this order: the app posts no message (tui.live.LiveScreen)."""
        return not self._mine(batch)

    def on_store_changed(self, message: StoreChanged) -> None:
        mine = self._mine(message.events)
        if not mine:
            return
        if not self._pending:
            self._pending = []
            self._had_claim = self.mine  # type: ignore[attr-defined]
        self._pending += mine
        self.live_changed()

    def live_refresh(self, full: bool) -> None:
        o: Any = self
        events, self._pending = self._pending or [], None
        if full or any(e.id > o._fresh_at for e in events):  # not (only) the echo of this screen's own save
            o.reload()
        others = [e for e in events if e.actor != o.me]
        if others:
            self._unsaid = [*(self._unsaid or []), *others]
            if self._notices is None:
                self._notices = Coalesce(self, self._say, NOTICE_S)
            self._notices()
        if events and self._had_claim and not o.mine and all(e.actor == o.me for e in events):
            o.notify("your claim on this order ended in another session", severity="warning")

    def _say(self) -> None:
        o: Any = self
        events, self._unsaid = self._unsaid or [], None
        if events:
            warn = any(e.action in WARN_ACTIONS for e in events)
            o.notify(notice_text(events), title=f"{o.number} changed", severity="warning" if warn else "information")
