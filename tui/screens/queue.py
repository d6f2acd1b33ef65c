"""The live orders queue screen: triage order, a "why" panel, filters and search.

The rows are drawn by `tui.widgets.queue_view.QueueView` from `tui.queue_source.QueueSource`
(windowed: the queue is never loaded whole); filters live in `tui.widgets.queue_filter`. Other
screens are opened by message (`tui.messages.OpenScreen`), never imported: the app owns navigation.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from core.delivery import HISTORY_ACTION as DELIVERY_EVENT
from core.enums import Priority, Tier
from core.labels import channel_label, hold_label
from core.permissions import Action
from core.errors import OrderqError
from core.money import from_cents_int
from core.triage import due_cell, due_text, explain, sla_paused
from db.convert import dt
from db.feed import LIVE_MODES, RECONNECTING
from db.service import Desk
from tui.cropped_compositor import use_cropped_compositor
from tui.live import LiveScreen, shown
from tui.messages import OpenScreen, RulesReady, StoreChanged
from tui.plain import plain
from tui.role_keys import RoleKeys
from tui.queue_source import QueueSource
from tui.widgets.footer import KeyFooter
from tui.widgets.line_panel import LinePanel
from tui.widgets.queue_filter import FilterScreen, ViewState
from tui.widgets.queue_columns import QueueHeader, header_text
from tui.widgets.queue_view import QueueView

__all__ = ["QueueScreen", "QueueSource", "QueueView"]

VERBS = {
    "claim": "claimed", "unclaim": "gave back", "lease_expired": "lease expired on", "force_release": "force-released",
    "reassign": "reassigned", "hold": "put on hold", "unhold": "took off hold", "release": "released",
    "auto_release": "released", "cancel": "cancelled", "tick": "ticked a step on", "lines_changed": "changed the lines of",
    "override": "overrode the class/due of", "ship": "shipped", "close": "closed",
}
#: order events that change nothing a queue shows: a sent (or failed) delivery only writes the
#: outbox and the order's history (issue 14: every session gets every event)
UNSHOWN_ACTIONS = frozenset({DELIVERY_EVENT})
#: changes to the item under the cursor that bring no "Changed under you" notice: a checklist tick
#: changes nothing the queue shows (the order screen, which shows the checklist, still says so), and
#: a claimer ticking through the order under a rep's cursor raised a toast a step (issue 14: each
#: toast lays the whole screen out again, in every session looking at that order)
UNTOLD_ACTIONS = frozenset({"tick", "untick"})



class QueueScreen(LiveScreen, RoleKeys, Screen[None]):
    """The rep's home: the live queue in triage order."""

    NEEDS = {"claim_next": Action.ORDER_WORK, "give_back": Action.ORDER_WORK, "new_order": Action.ORDER_CREATE,
             "returns": Action.RETURN_VIEW, "wallboard": Action.WALLBOARD}

    SCREEN_NAME = "queue"
    CSS_PATH = "queue.tcss"
    #: the countdowns, the clock in the bar and the why panel have minute resolution
    TICK_S = 60.0
    BINDINGS = [
        Binding("c", "claim_next", "Claim next", id="queue.claim-next"),
        Binding("enter", "open_selected", "Open", id="queue.open"),
        Binding("u", "give_back", "Give back", id="queue.give-back"),
        Binding("slash", "search", "Search", id="queue.search"),
        Binding("f", "filters", "Filter", id="queue.filter"),
        Binding("m", "toggle_mine", "Mine", id="queue.mine"),
        Binding("n", "new_order", "New order", id="queue.new-order"),
        Binding("r", "returns", "Returns", id="queue.returns"),
        Binding("w", "wallboard", "Wallboard", id="queue.wallboard"),
        Binding("escape", "clear", "Clear", show=False, id="queue.clear"),
        Binding("q", "app.quit", "Quit", id="queue.quit"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        use_cropped_compositor(self)  # a changed row renders that row, not every widget's lines
        self.desk = desk
        self.me = desk.actor.name
        self._role = desk.actor.role.value if desk.actor.role else "operator"
        self.view_state = ViewState()
        self.source = QueueSource(desk, self.view_state.to_filter(self.me))
        self._search_timer = None
        self._said: dict[str, Any] = {}  # what each fixed panel shows now (_set)
        self._changed: set[int] = set()  # orders changed since the last live draw
        #: "Changed under you: …", the why panel's second line until the rep moves the cursor
        self._notice: Text | None = None
        self._notice_new = False  # not drawn yet

    # ---- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="qbar")  # the search box is mounted below it on first use (action_search)
        with Vertical(id="qbody"):
            yield QueueHeader(header_text(120), id="qhead")
            yield QueueView(self.source, self.me, self.desk.now, id="qview")
        yield LinePanel(id="why")  # a new notice or lease time repaints its own line only
        yield KeyFooter()

    @property
    def view(self) -> QueueView:
        return self.query_one(QueueView)

    def on_mount(self) -> None:
        self.view.reload()
        self.view.focus()
        self._arm_tick()
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        first_paint = getattr(self.app, "first_paint", None)  # the app starts its background work now
        if first_paint is not None:
            first_paint()

    def _arm_tick(self) -> None:
        """Tick just after the store clock's next minute (a test clock may run at any pace: at
        most TICK_S apart)."""
        now = self.desk.now()
        wait = min(self.TICK_S, 60.0 - now.second - now.microsecond / 1e6 + 0.05)
        self.set_timer(max(0.5, wait), self._minute)

    def _minute(self) -> None:
        self._arm_tick()
        if not shown(self):
            self._stale = True  # redrawn when it is shown again
            return
        self._tick(full=False)

    def _tick(self, full: bool = True) -> None:
        if full:
            self.view.refresh()
        else:
            self.view.tick()
        self._update_bar()
        self._update_why(self.view.selected_row, self.view.cursor)

    def _set(self, widget_id: str, content: Any) -> None:
        """Update a fixed-height panel (a Static or a LinePanel): no layout pass, and nothing at all
        when it says the same."""
        key = (content.plain, tuple(content.spans)) if isinstance(content, Text) else str(content)
        if self._said.get(widget_id) == key:
            return
        self._said[widget_id] = key
        self.query_one(widget_id, Static | LinePanel).update(content, layout=False)

    def feed_state_changed(self) -> None:
        """The app's change feed went live, or lost the database: the bar says which."""
        self._update_bar()

    def _update_bar(self) -> None:
        n = self.source.total
        feed = getattr(self.app, "feed_state", "")
        live = "● live" if feed in LIVE_MODES else ("reconnecting…" if feed == RECONNECTING else "")
        now = self.desk.now()
        said = (n, live, self.view_state.describe(), now.replace(second=0, microsecond=0))
        if self._said.get("bar-inputs") == said:
            return  # the bar shows minutes: nothing in it moved
        self._said["bar-inputs"] = said
        closed = self.desk.store.calendar.closed_text(now)  # the SLA clock stands still meanwhile
        self._set("#qbar",
            Text.assemble(
                (" orderq ", "bold reverse"), " ",
                plain(f"{self.me} ({self._role})", style="bold"), "  ",
                plain(self.view_state.describe(), multiline=False), "  ",
                (f"{n:,} item{'s' if n != 1 else ''}", "bold"), "  ",
                (f"{now:%H:%M} UTC", "dim"), "  ", (f"{closed}  " if closed else "", "bold"), (live, "dim"),
            )
        )

    def _update_why(self, row: Any | None, index: int) -> None:
        if row is None:
            self._set("#why", "Nothing selected.")
            return
        now = self.desk.now()
        lines = explain(
            priority=Priority(row["priority"]), priority_source=row["priority_source"],
            tier=Tier(row["customer_tier"]), total=from_cents_int(row["total_cents"]),
            due=due_cell(row, now, self.desk.store.calendar)[0], now=now, cal=self.desk.store.calendar,
            position=index + 1, override=row["override_note"], paused=sla_paused(row["state"], row["hold_reason"]),
        )
        if self.view_state.describe() != "open work":
            lines[0] = lines[0].replace("in the queue", "in this view")
        extra = []
        if row["state"] == "on_hold":
            held = f"on hold: {hold_label(row['hold_reason'])}"
            if sla_paused(row["state"], row["hold_reason"]) and row["hold_started_at"] is not None:
                held += f" since {dt(row['hold_started_at']):%Y-%m-%d %H:%M} UTC; SLA clock paused, the due time moves with it"
            extra.append(held)
        if row["queue_reason"]:
            extra.append(f"queued for a rep: {row['queue_reason']}")
        if row["claimed_by"]:
            lease = dt(row["lease_expires_at"])
            left = f", lease {due_text(lease, now).replace('in ', 'ends in ')}" if lease else ""
            extra.append(f"claimed by {row['claimed_by']}{left}")
        head = Text.assemble(plain(f"Why {row['number']}", style="bold"),
                             plain(f"  {row['customer_name']} ({row['customer_code']}, "
                                   f"{row['customer_tier'].replace('_', ' ')}) · {channel_label(row['channel'])} · {row['type']}"))
        body = plain("\n".join(f"  {ln}" for ln in lines + extra))
        notice = () if self._notice is None else (self._notice, "\n")
        self._set("#why", Text.assemble(head, "\n", *notice, body))

    def on_queue_view_highlighted(self, message: QueueView.Highlighted) -> None:
        if message.moved:
            self._notice = None  # the rep moved on: the notice was about what they were on
        self._update_why(message.row, message.index)
        self._update_bar()

    # ---- live ---------------------------------------------------------------------------------
    def on_rules_ready(self, _message: RulesReady) -> None:
        self._tick()  # at-risk marks need the rules' threshold

    def unaffected_by(self, batch: list[Any]) -> bool:
        """The app asks before it posts StoreChanged: True when the batch changes nothing this
        screen shows, decided from the events alone (QueueSource.unseen). Then no message, no read,
        no draw: most of the changes a hundred sessions get (issue 14)."""
        if self._changed:
            return False  # a draw is pending anyway: the batch joins it
        orders = [ev for ev in batch if ev.entity == "order" and ev.action not in UNSHOWN_ACTIONS]
        sel = self.view.selected_id
        if any(ev.entity_id == sel for ev in orders):
            return False  # the item under the cursor (off view if the wheel scrolled): a notice
        if not orders:
            return True
        total = self.source.total
        if not self.view.unseen(orders):
            return False
        if self.source.total != total:
            self._update_bar()  # new work below the window: the count is all that shows it
        return True

    def on_store_changed(self, message: StoreChanged) -> None:
        view = self.view
        sel = view.selected_id
        said: list[str] = []
        for ev in message.events:
            if ev.action in UNSHOWN_ACTIONS:
                continue  # a sent delivery changes no order row: no notice, no read
            if (ev.entity == "order" and ev.entity_id == sel and sel is not None and ev.actor != self.me
                    and ev.action not in UNTOLD_ACTIONS):
                said.append(f"{ev.actor} {VERBS.get(ev.action, ev.action.replace('_', ' '))} {ev.ref}")
        if said:
            # a line in the why panel, not a toast: a toast lays the whole screen out twice (shown,
            # then gone), 30-60 ms in every session looking at that order (issue 14); the panel is
            # drawn again anyway, for the row it describes changed
            self._notice = Text.assemble(("Changed under you:", "bold reverse"), " ",
                                         plain("; ".join(dict.fromkeys(said)), multiline=False, style="bold"),
                                         (f"  {self.desk.now():%H:%M} UTC", "dim"))
            self._notice_new = True
        ids = {ev.entity_id for ev in message.events
               if ev.entity == "order" and ev.entity_id is not None and ev.action not in UNSHOWN_ACTIONS}
        if ids:
            self._changed |= ids
            self.live_changed()  # coalesced; only the lines that changed are drawn again

    def live_refresh(self, full: bool) -> None:
        """The changes since the last draw: skipped when they touch nothing this view shows
        (QueueSource.affected); else the view re-reads and redraws the lines that changed.
        Back on view after being hidden (`full`): re-read and draw it all."""
        ids, self._changed = self._changed, set()
        view = self.view
        if full:
            view.reload()
            self._tick()
        elif view.affected(ids):
            if not view.patch(ids):  # rows that keep their places: just those rows are re-read
                view.reload()
            self._update_bar()
        if self._notice_new:  # (a changed row under the cursor redraws the panel: Highlighted)
            self._notice_new = False
            self._update_why(view.selected_row, view.cursor)

    # ---- filters and search ---------------------------------------------------------------------
    def _apply(self) -> None:
        self._notice = None  # the rep chose another view: an old notice would be about nothing on it
        self.source.filter = self.view_state.to_filter(self.me)
        self.view.reload()

    def _search_box(self) -> Input | None:
        found = self.query("#search")
        return found.first(Input) if found else None

    async def action_search(self) -> None:
        box = self._search_box()
        if box is None:  # not built before the first paint: most sessions never search
            box = Input(placeholder="search: order number, customer or SKU — enter to keep, escape to clear",
                        id="search")
            await self.mount(box, after=self.query_one("#qbar"))
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "search":
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value.strip()

        def apply() -> None:
            if value != self.view_state.search:
                self.view_state.search = value
                self._apply()

        self._search_timer = self.set_timer(0.15, apply)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        self.view_state.search = event.value.strip()
        self._apply()
        if not self.view_state.search:
            event.input.display = False
        self.view.focus()

    def action_clear(self) -> None:
        box = self._search_box()
        if (box is not None and box.display) or self.view_state.search:
            if box is not None:
                box.value = ""
                box.display = False
            self.view_state.search = ""
            self._apply()
            self.view.focus()

    def action_toggle_mine(self) -> None:
        self.view_state.mine = not self.view_state.mine
        self._apply()

    def action_filters(self) -> None:
        def done(result: ViewState | None) -> None:
            if result is not None:
                result.search, result.mine = self.view_state.search, self.view_state.mine
                self.view_state = result
                self._apply()

        self.app.push_screen(FilterScreen(self.view_state), done)

    # ---- work ------------------------------------------------------------------------------------
    def _refused(self, e: OrderqError) -> None:
        self.notify(e.message, severity="error", timeout=6)

    def action_claim_next(self) -> None:
        from tui.claim_next import claim_in_view  # within this view's filter

        try:
            got = claim_in_view(self.app, self.desk)
        except OrderqError as e:
            self._refused(e)
            return
        if got is not None:
            self._open_order(got.number, got.claim_token)

    def _open_order(self, number: str, token: str | None) -> None:
        self.post_message(OpenScreen("order", number, token))

    def action_open_selected(self) -> None:
        row = self.view.selected_row
        if row is None:
            return
        self._open_order(row["number"], self.app.claims.token_for(row["number"]))  # type: ignore[attr-defined]

    def action_give_back(self) -> None:
        row = self.view.selected_row
        if row is None:
            return
        number = row["number"]
        if row["claimed_by"] != self.me:
            who = f"claimed by {row['claimed_by']}" if row["claimed_by"] else "not claimed"
            self.notify(f"{number} is {who}; there is nothing of yours to give back", severity="warning")
            return
        if self.app.claims.token_for(number) is None:  # type: ignore[attr-defined]
            self._offer_take_over(number)
            return
        try:
            self.desk.orders.unclaim(number, self.app.claims.token_for(number))  # type: ignore[attr-defined]
        except OrderqError as e:
            self._refused(e)
            return
        self.app.claims.remove(number)  # type: ignore[attr-defined]
        self.notify(f"Gave back {number}: it is queued again")
        self.view.reload()
        self.app.feed_poke()  # type: ignore[attr-defined]

    def _offer_take_over(self, number: str) -> None:
        """Your own claim, held by another of your sessions: this session has no token for it, and
        a TUI user cannot type one. Offer to move the claim here instead (a new token; the other
        session is told, and its writes are refused from then on)."""
        from tui.widgets.take_over import take_over_confirm

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                got = self.desk.orders.take_over(number)
            except OrderqError as e:
                self._refused(e)
                self.view.reload()
                return
            self.app.claims.add("orders", got.number, got.claim_token)  # type: ignore[attr-defined]
            self.notify(f"{number} is yours in this session now; u gives it back, enter opens it")
            self.view.reload()
            self.app.feed_poke()  # type: ignore[attr-defined]

        self.app.push_screen(take_over_confirm(number), answered)

    def action_new_order(self) -> None:
        self.post_message(OpenScreen("entry"))

    def action_returns(self) -> None:
        self.post_message(OpenScreen("returns"))

    def action_wallboard(self) -> None:
        self.post_message(OpenScreen("wallboard"))  # supervisors only: the app checks

