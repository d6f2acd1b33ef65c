"""What the queue shows: the view's filter state, and the dialog that picks states, classes and channels."""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from core.enums import Channel, OrderState, Priority
from core.labels import channel_label, state_label
from db.orders_read import QueueFilter
from tui.widgets.queue_view import OPEN_STATES, STATE_TEXT


@dataclass
class ViewState:
    states: tuple[str, ...] = OPEN_STATES
    priorities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    mine: bool = False
    search: str = ""

    def to_filter(self, me: str) -> QueueFilter:
        return QueueFilter(states=self.states, priorities=self.priorities, channels=self.channels,
                           claimed_by=me if self.mine else None, search=self.search or None)

    def describe(self) -> str:
        parts = ["open work" if set(self.states) == set(OPEN_STATES) else
                 ("all states" if not self.states else "state " + "/".join(map(state_label, self.states)))]
        if self.priorities:
            parts.append("class " + "/".join(self.priorities))
        if self.channels:
            parts.append("channel " + "/".join(map(channel_label, self.channels)))
        if self.mine:
            parts.append("mine")
        if self.search:
            parts.append(f"search “{self.search}”")
        return " · ".join(parts)


class FilterScreen(ModalScreen[ViewState | None]):
    """Pick states, classes and channels with the keyboard: tab between lists, space toggles,
    enter applies, escape cancels. Nothing ticked in a list means no limit on it."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="filter.cancel"),
        Binding("enter", "apply", "Apply", id="filter.apply", priority=True),
        Binding("o", "open_only", "Open work", id="filter.open-work"),
    ]
    DEFAULT_CSS = """
    FilterScreen { align: center middle; }
    FilterScreen > Vertical { width: 90; height: auto; max-height: 24; border: round $primary; background: $surface; padding: 0 1; }
    FilterScreen Horizontal { height: auto; }
    FilterScreen SelectionList { width: 1fr; height: 10; }
    FilterScreen .hint { color: $text-muted; }
    """

    def __init__(self, current: ViewState) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal
        from textual.widgets import SelectionList

        cur = self.current
        with Vertical():
            yield Static("[b]Filter the queue[/b]  tab: next list · space: tick · enter: apply · o: open work · escape: cancel",
                         classes="hint")
            with Horizontal():
                yield SelectionList[str](*[(STATE_TEXT[s.value], s.value, s.value in cur.states) for s in OrderState],
                                         id="f-states")
                yield SelectionList[str](*[(p.value, p.value, p.value in cur.priorities) for p in Priority],
                                         id="f-classes")
                yield SelectionList[str](*[(channel_label(c), c.value, c.value in cur.channels) for c in Channel],
                                         id="f-channels")

    def on_mount(self) -> None:
        for sid, title in (("#f-states", "state"), ("#f-classes", "class"), ("#f-channels", "channel")):
            self.query_one(sid).border_title = title

    def _selected(self, sid: str) -> tuple[str, ...]:
        from textual.widgets import SelectionList

        return tuple(self.query_one(sid, SelectionList).selected)

    def action_apply(self) -> None:
        self.dismiss(ViewState(states=self._selected("#f-states"), priorities=self._selected("#f-classes"),
                               channels=self._selected("#f-channels")))

    def action_open_only(self) -> None:
        self.dismiss(ViewState(states=OPEN_STATES, priorities=self._selected("#f-classes"),
                               channels=self._selected("#f-channels")))

    def action_cancel(self) -> None:
        self.dismiss(None)
