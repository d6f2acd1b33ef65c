"""The live orders queue: triage order, a "why" panel, filters and search, windowed.

The view never loads the queue whole. `QueueView` is a ScrollView whose virtual height is the
row count; `render_line` draws each visible row from a small cache of pages (a few hundred rows at
most). A page next to a cached one is read by its neighbour's key (`OrderService.list(after=…)`),
so scrolling costs the same 90,000 rows down as at the top; a jump reads by offset from the nearer
end, off the index alone. After every change-feed batch the cache is
dropped, the count re-read, and the cursor follows the item it was on (found in the page around
the old cursor, else by `position`), keeping its place on the screen.
"""
from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Static

from core.enums import Channel, OrderState, Priority, Tier
from core.labels import STATE, channel_label, hold_label, state_label
from core.errors import OrderqError
from core.permissions import Action
from core.money import from_cents_int
from core.plain_text import printable
from core.triage import Slack, due_cell, due_text, explain, sla_paused, slack
from db import orders_read
from db.connection import translate
from db.convert import dt
from db.orders_read import QueueFilter
from db.service import Desk
from tui.messages import RulesReady, StoreChanged
from tui.plain import plain
from tui.role_keys import RoleKeys

OPEN_STATES = tuple(s.value for s in OrderState if s.open)
TIER_TAG = {Tier.KEY_ACCOUNT.value: "KEY", Tier.REPEAT.value: "RPT", Tier.STANDARD.value: ""}
STATE_TEXT = {str(s): label for s, label in STATE.items()}
HOLD_SHORT = {"credit": "credit", "stock": "stock", "customer_info": "info", "pricing": "price",
              "customer_request": "cust"}
VERBS = {
    "claim": "claimed", "unclaim": "gave back", "lease_expired": "lease expired on", "force_release": "force-released",
    "reassign": "reassigned", "hold": "put on hold", "unhold": "took off hold", "release": "released",
    "auto_release": "released", "cancel": "cancelled", "tick": "ticked a step on", "lines_changed": "changed the lines of",
    "override": "overrode the class of", "ship": "shipped", "close": "closed",
}

# (key, heading, width, right-aligned); the customer column takes what is left
COLUMNS: list[tuple[str, str, int, bool]] = [
    ("cls", "cls", 3, False), ("number", "number", 9, False), ("customer", "customer", 0, False),
    ("tier", "tier", 4, False), ("channel", "channel", 7, False), ("type", "type", 9, False),
    ("value", "value", 11, True), ("due", "due", 15, False), ("state", "state", 11, False),
    ("claimed", "claimed by", 10, False),
]
MIN_CUSTOMER = 12


#: dropped in this order when the terminal is too narrow for every column
DROP_FIRST = ("type", "channel", "tier", "claimed")


def layout(width: int) -> list[tuple[str, str, int, bool]]:
    cols = list(COLUMNS)
    for key in DROP_FIRST:
        fixed = sum(w for _, _, w, _ in cols) + len(cols)  # one space before each column
        if width - fixed >= MIN_CUSTOMER:
            break
        cols = [c for c in cols if c[0] != key]
    fixed = sum(w for _, _, w, _ in cols) + len(cols)
    cust = max(MIN_CUSTOMER, width - fixed)
    return [(k, h, w or cust, r) for k, h, w, r in cols]


def fit(text: str, width: int, right: bool = False) -> str:
    """One cell of a drawn row: user text's controls as escapes (`printable`), cut or padded to width."""
    text = printable(text, multiline=False)
    if len(text) > width:
        text = text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)


class QueueSource:
    """Count, pages and positions of one filtered queue, through the service's read API."""

    PAGE = 64
    MAX_PAGES = 8

    def __init__(self, desk: Desk, f: QueueFilter) -> None:
        self.desk = desk
        self.filter = f
        self._pages: OrderedDict[int, list[Any]] = OrderedDict()
        self.total = 0

    def reload(self) -> int:
        self._pages.clear()
        try:
            self.total = orders_read.count(self.desk.store.conn, self.filter)
        except sqlite3.Error as e:  # a disk error must show as a message, never a traceback
            raise translate(e) from None
        return self.total

    def _page(self, n: int) -> list[Any]:
        page = self._pages.get(n)
        if page is None:
            page = self._fetch(n)
            self._pages[n] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(n)
        return page

    def _fetch(self, n: int) -> list[Any]:
        """Page n, next to a cached neighbour when there is one (a keyset read: as cheap 90,000
        rows down as at the top), else by offset, from whichever end is nearer."""
        prev, nxt = self._pages.get(n - 1), self._pages.get(n + 1)
        orders = self.desk.orders
        if prev and len(prev) == self.PAGE:
            return orders.list(self.filter, limit=self.PAGE, after=orders_read.key_of(prev[-1]))
        if nxt:
            return orders.list(self.filter, limit=self.PAGE, before=orders_read.key_of(nxt[0]))
        return orders.list(self.filter, n * self.PAGE, self.PAGE, total=self.total)

    def row(self, i: int) -> Any | None:
        if i < 0 or i >= self.total:
            return None
        try:
            page = self._page(i // self.PAGE)
        except (OrderqError, sqlite3.Error):
            return None  # drawn blank; reload() reports the error
        k = i % self.PAGE
        return page[k] if k < len(page) else None

    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def locate(self, order_id: int, near: int) -> int | None:
        """Where the item is now: the pages around `near` first (cheap), else by position."""
        base = near // self.PAGE
        try:
            for n in (base, base - 1, base + 1):
                if n < 0 or n * self.PAGE >= self.total:
                    continue
                for k, r in enumerate(self._page(n)):
                    if r["id"] == order_id:
                        return n * self.PAGE + k
            return orders_read.position(self.desk.store.conn, self.filter, order_id)
        except (OrderqError, sqlite3.Error):
            return None


class QueueView(ScrollView, can_focus=True):
    """Draws the visible rows itself (Line API), from QueueSource's small page cache."""

    COMPONENT_CLASSES = {
        "queue--cursor", "queue--overdue", "queue--at-risk", "queue--soon", "queue--ok",
        "queue--mine", "queue--held", "queue--empty",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="queue.cursor-up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="queue.cursor-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.page-down"),
        Binding("home", "jump(0)", "First", show=False, id="queue.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="queue.last"),
    ]

    class Highlighted(Message):
        def __init__(self, row: Any | None, index: int) -> None:
            super().__init__()
            self.row = row
            self.index = index

    def __init__(self, source: QueueSource, me: str, now: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.source = source
        self.me = me
        self._now_fn = now  # callable → aware datetime (the store clock)
        self.cursor = 0
        self.selected_id: int | None = None

    # ---- data ---------------------------------------------------------------------------
    def reload(self, *, follow: bool = True) -> None:
        """Re-read the count; keep the cursor on its item and that item at the same screen row."""
        screen_row = self.cursor - int(self.scroll_y)
        try:
            self.source.reload()
        except OrderqError as e:
            self.notify(f"could not read the queue: {e.message}", severity="error", timeout=8)
            return
        total = self.source.total
        target = self.cursor
        if follow and self.selected_id is not None and total:
            found = self.source.locate(self.selected_id, self.cursor)
            if found is not None:
                target = found
        self.cursor = max(0, min(target, total - 1)) if total else 0
        self.virtual_size = Size(self.size.width, total)
        self._show_cursor(screen_row)
        self._announce()
        self.refresh()

    def select_id(self, order_id: int) -> None:
        self.selected_id = order_id
        self.reload()

    @property
    def selected_row(self) -> Any | None:
        return self.source.row(self.cursor) if self.source.total else None

    def _show_cursor(self, screen_row: int | None = None) -> None:
        height = max(1, self.scrollable_content_region.height or self.size.height or 1)
        if screen_row is not None and 0 <= screen_row < height:
            y = self.cursor - screen_row
        else:
            y = int(self.scroll_y)
            if self.cursor < y:
                y = self.cursor
            elif self.cursor >= y + height:
                y = self.cursor - height + 1
        y = max(0, min(y, max(0, self.source.total - height)))
        self.scroll_to(y=y, animate=False, immediate=True)

    def _announce(self) -> None:
        row = self.selected_row
        self.selected_id = row["id"] if row is not None else None
        self.post_message(self.Highlighted(row, self.cursor))

    def move_to(self, index: int) -> None:
        total = self.source.total
        if not total:
            return
        self.cursor = max(0, min(index, total - 1))
        self._show_cursor()
        self._announce()
        self.refresh()

    # ---- actions -------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        self.move_to(0 if where == 0 else self.source.total - 1)

    def on_click(self, event: events.Click) -> None:
        self.move_to(int(self.scroll_y) + event.y)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self.source.total)
        self._show_cursor()
        for head in self.screen.query(QueueHeader):  # headings line up with the rows, not the scrollbar
            head.update(header_text(self.size.width))

    # ---- drawing ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.size.width
        base = self.rich_style
        if not self.source.total:
            if y == 0:
                style = base + self.get_component_rich_style("queue--empty")
                return Strip([Segment(fit("  nothing here: no open orders match this view", width), style)], width)
            return Strip.blank(width, base)
        row = self.source.row(index)
        if row is None:
            return Strip.blank(width, base)
        return self._render_row(row, index == self.cursor, width, base)

    def _at_risk(self) -> timedelta:
        """Zero (overdue only) for the first paint, drawn before the rules are validated; the
        screen redraws on RulesReady, a moment later."""
        store = self.source.desk.store
        return store.rules.at_risk if store.rules_loaded else timedelta(0)

    def _cells(self, row: Any, now: datetime) -> tuple[dict[str, str], Slack]:
        cal = self.source.desk.store.calendar  # no pydantic: read before the rules are validated
        due, due_s = due_cell(row, now, cal)  # a customer hold's countdown stands still
        sl = slack(due, now, self._at_risk(), cal)
        if sl == Slack.AT_RISK and not sla_paused(row["state"], row["hold_reason"]):
            due_s += " !"  # at risk, legible without colour (NO_COLOR); overdue says so in words
        claimed = row["claimed_by"] or ""
        if row["state"] == "on_hold" and row["hold_reason"]:
            state = "hold " + HOLD_SHORT.get(row["hold_reason"], row["hold_reason"])
        else:
            state = STATE_TEXT.get(row["state"], row["state"])
        cells = {
            "cls": row["priority"],
            "number": row["number"],
            "customer": row["customer_name"] or row["customer_code"],
            "tier": TIER_TAG.get(row["customer_tier"], ""),
            "channel": channel_label(row["channel"]),
            "type": row["type"],
            "value": f"{from_cents_int(row['total_cents']):,.2f}",
            "due": due_s,
            "state": state,
            "claimed": ("● " if claimed == self.me else "") + claimed,
        }
        return cells, sl

    def _render_row(self, row: Any, is_cursor: bool, width: int, base: Style) -> Strip:
        cells, sl = self._cells(row, self._now_fn())
        cols = layout(width)
        if cells["tier"] and not any(k == "tier" for k, *_ in cols):
            cells["customer"] = f"{cells['tier']} {cells['customer']}"
        row_style = base
        if row["state"] == "on_hold":
            row_style += self.get_component_rich_style("queue--held")
        if is_cursor:
            row_style += self.get_component_rich_style("queue--cursor")
        slack_style = self.get_component_rich_style(f"queue--{sl.value.replace('_', '-')}", partial=True)
        mine_style = self.get_component_rich_style("queue--mine", partial=True)
        segs: list[Segment] = []
        for key, _h, w, right in cols:
            segs.append(Segment(" ", row_style))
            style = row_style
            if is_cursor:
                pass  # the cursor bar's own colours stay legible in every theme
            elif key == "due":
                style = row_style + slack_style
            elif key == "claimed" and row["claimed_by"] == self.me:
                style = row_style + mine_style
            elif key == "cls" and row["priority"] == Priority.P1.value:
                style = row_style + Style(bold=True)
            segs.append(Segment(fit(cells[key], w, right), style))
        strip = Strip(segs)
        return strip.extend_cell_length(width, row_style).crop(0, width)


def header_text(width: int) -> str:
    return "".join(" " + fit(h, w, r) for _k, h, w, r in layout(width))


class QueueHeader(Static):
    """The column headings; QueueView sets them to its own width when it is resized."""


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


class QueueScreen(RoleKeys, Screen[None]):
    """The rep's home: the live queue in triage order."""

    NEEDS = {"claim_next": Action.ORDER_WORK, "give_back": Action.ORDER_WORK, "new_order": Action.ORDER_CREATE,
             "returns": Action.RETURN_VIEW, "wallboard": Action.WALLBOARD}

    SCREEN_NAME = "queue"
    CSS_PATH = "queue.tcss"
    TICK_S = 15.0
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
        self.desk = desk
        self.me = desk.actor.name
        self._role = desk.actor.role.value if desk.actor.role else "operator"
        self.view_state = ViewState()
        self.source = QueueSource(desk, self.view_state.to_filter(self.me))
        self._search_timer = None

    # ---- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="qbar")  # the search box is mounted below it on first use (action_search)
        with Vertical(id="qbody"):
            yield QueueHeader(header_text(120), id="qhead")
            yield QueueView(self.source, self.me, self.desk.now, id="qview")
        yield Static(id="why")
        yield Footer(compact=True)

    @property
    def view(self) -> QueueView:
        return self.query_one(QueueView)

    def on_mount(self) -> None:
        self.view.reload()
        self.view.focus()
        self.set_interval(self.TICK_S, self._tick)
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        first_paint = getattr(self.app, "first_paint", None)  # the app starts its background work now
        if first_paint is not None:
            first_paint()

    def _tick(self) -> None:
        self.view.refresh()
        self._update_bar()
        self._update_why(self.view.selected_row, self.view.cursor)

    def _update_bar(self) -> None:
        n = self.source.total
        feed = getattr(getattr(self.app, "_feed", None), "mode", "")
        live = "● live" if feed in ("watch", "poll") else ""
        now = self.desk.now()
        closed = self.desk.store.calendar.closed_text(now)  # the SLA clock stands still meanwhile
        self.query_one("#qbar", Static).update(
            Text.assemble(
                (" orderq ", "bold reverse"), " ",
                plain(f"{self.me} ({self._role})", style="bold"), "  ",
                plain(self.view_state.describe(), multiline=False), "  ",
                (f"{n:,} item{'s' if n != 1 else ''}", "bold"), "  ",
                (f"{now:%H:%M} UTC", "dim"), "  ", (f"{closed}  " if closed else "", "bold"), (live, "dim"),
            )
        )

    def _update_why(self, row: Any | None, index: int) -> None:
        why = self.query_one("#why", Static)
        if row is None:
            why.update("Nothing selected.")
            return
        now = self.desk.now()
        lines = explain(
            priority=Priority(row["priority"]), priority_source=row["priority_source"],
            tier=Tier(row["customer_tier"]), total=from_cents_int(row["total_cents"]), due=due_cell(row, now, self.desk.store.calendar)[0],
            now=now, cal=self.desk.store.calendar, position=index + 1, override=row["override_note"],
            paused=sla_paused(row["state"], row["hold_reason"]),
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
        why.update(Text.assemble(head, "\n", body))

    def on_queue_view_highlighted(self, message: QueueView.Highlighted) -> None:
        self._update_why(message.row, message.index)
        self._update_bar()

    # ---- live ---------------------------------------------------------------------------------
    def on_rules_ready(self, _message: RulesReady) -> None:
        self._tick()  # at-risk marks need the rules' threshold

    def on_store_changed(self, message: StoreChanged) -> None:
        view = self.view
        sel = view.selected_id
        for ev in message.events:
            if ev.entity == "order" and ev.entity_id == sel and sel is not None and ev.actor != self.me:
                verb = VERBS.get(ev.action, ev.action.replace("_", " "))
                extra = f" ({ev.data['step']})" if ev.action == "tick" and ev.data.get("step") else ""
                self.notify(f"{ev.actor} {verb} {ev.ref}{extra}", title="Changed under you", timeout=6)
        if any(ev.entity == "order" for ev in message.events):
            view.reload()

    # ---- filters and search ---------------------------------------------------------------------
    def _apply(self) -> None:
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
            self._open_order(got.number, got.claim_token, claimed=True)

    def _open_order(self, number: str, token: str | None, *, claimed: bool = False) -> None:
        from tui.app import screen_class

        cls = screen_class("order", "OrderScreen")
        if cls is None:
            what = f"Claimed {number}" if claimed else number
            self.notify(f"{what} (the order screen is not installed in this build)")
            return
        self.app.push_screen(cls(self.desk, number, token))

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
        from tui.app import screen_class

        cls = screen_class("entry", "EntryScreen")
        if cls is None:
            self.notify("order entry is not installed in this build", severity="warning")
            return
        self.app.push_screen(cls(self.desk))

    def action_returns(self) -> None:
        self.app.open_screen("returns")  # type: ignore[attr-defined]

    def action_wallboard(self) -> None:
        self.app.open_screen("wallboard")  # type: ignore[attr-defined]  (supervisors: checked there)


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
