"""The queue's rows, drawn by hand: `QueueView` is a ScrollView whose virtual height is the row count.

`render_line` draws each visible row from QueueSource's page cache (Line API), so 100,000 open
orders cost what 30 do. After a change-feed batch the screen calls `reload()`: the cache is
dropped, the count re-read, and the cursor follows the item it was on (found in the page around
the old cursor, else by `position`), keeping its place on the screen; at the top of the queue the
top stays on view instead (new urgent work shows, the cursor moves down with its item). Columns give way in a set
order when the terminal is narrow (`layout`).

Only what changed is drawn again (issue 14: a hundred sessions draw every change): each drawn line
remembers the row it showed (`_drawn`), and a reload that leaves the view where it was refreshes
just the lines whose row is not the one drawn there. `tick()` (once a minute: the countdowns have
minute resolution) redraws only the due cells whose text moved.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from core.enums import OrderState, Priority, Tier
from core.labels import STATE, channel_label
from core.errors import OrderqError
from core.money import from_cents_int
from core.triage import Slack, due_cell, sla_paused, slack
from tui.queue_source import QueueSource
from tui.repaint import scrollbar_cells
from tui.widgets.queue_columns import COLUMNS, MIN_CUSTOMER, QueueHeader, fit, header_text, layout  # noqa: F401 - importers use them from here

OPEN_STATES = tuple(s.value for s in OrderState if s.open)
TIER_TAG = {Tier.KEY_ACCOUNT.value: "KEY", Tier.REPEAT.value: "RPT", Tier.STANDARD.value: ""}
STATE_TEXT = {str(s): label for s, label in STATE.items()}
HOLD_SHORT = {"credit": "credit", "stock": "stock", "customer_info": "info", "pricing": "price",
              "customer_request": "cust"}
#: rows kept as drawn strips (QueueView.render_line)
STRIP_CACHE = 256


#: the row's columns a drawn line depends on (`_cells`, `_render_row`, due_cell)
DRAWN = ("id", "number", "priority", "customer_name", "customer_code", "customer_tier", "channel", "type",
         "total_cents", "due_at", "state", "hold_reason", "hold_started_at", "claimed_by")

#: a row's DRAWN columns, as a tuple
drawn_of = itemgetter(*DRAWN)






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
        def __init__(self, row: Any | None, index: int, moved: bool = False) -> None:
            super().__init__()
            self.row = row
            self.index = index
            self.moved = moved  # the rep moved the cursor (not a change under it)

    def __init__(self, source: QueueSource, me: str, now: Any, **kw: Any) -> None:
        self._styles: dict[tuple, Style] = {}  # _style; before Widget's __init__, which may style it
        super().__init__(**kw)
        self.source = source
        self.me = me
        self._now_fn = now  # callable → aware datetime (the store clock)
        self.cursor = 0
        self.selected_id: int | None = None
        #: screen line -> what it shows: (row as read, is the cursor, width); the due text apart
        self._drawn: dict[int, tuple] = {}
        self._due_drawn: dict[int, str] = {}
        self._announced: tuple | None = None
        #: rows as drawn, by what they show (render_line): a few screens' worth
        self._strips: OrderedDict[tuple, tuple[Strip, str]] = OrderedDict()

    # ---- data ---------------------------------------------------------------------------
    def reload(self, *, follow: bool = True) -> None:
        """Re-read the count; keep the cursor on its item and that item at the same screen row.
        Redraw only the lines whose row changed (all of them when the view scrolled)."""
        screen_row = self.cursor - int(self.scroll_y)
        top = int(self.scroll_y)
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
        self._set_rows(total)
        height = max(1, self.scrollable_content_region.height or self.size.height or 1)
        if top == 0 and self.cursor < height:
            # at the top of the queue the top stays on view: new urgent work landing above the
            # cursor shows, and the cursor moves down a line with its item
            self._show_cursor(None)
        else:
            self._show_cursor(screen_row)
        self._announce()
        if int(self.scroll_y) != top or not self._drawn:
            self.refresh()
            return
        self._redraw_changed(top)

    def patch(self, ids: set[int]) -> bool:
        """Changes that keep every row in its place (a claim, a tick, a hold): re-read just those
        rows and redraw their lines. False when the view must be reloaded (QueueSource.patch)."""
        if not self._drawn or not self.source.patch(ids):
            return False
        self._redraw_changed(int(self.scroll_y))
        self._announce()
        return True

    def _redraw_changed(self, top: int) -> None:
        """Refresh the lines whose row is not the one drawn there."""
        width = self.size.width  # a region look-up: once, not per line
        for y in range(max(1, self.scrollable_content_region.height or self.size.height or 1)):
            if self._line_key(y, top, width) != self._drawn.get(y):
                self.refresh_line(top + y)

    def _set_rows(self, total: int) -> None:
        """The virtual height is the row count. Setting it lays the whole screen out again (tens of
        ms); that is needed only when the scrollbar comes or goes. Else the bar is redrawn alone, and
        only when its thumb moved: a bar redrawn is every row of the view rendered again (its column
        spans them all), yet one order more or less in hundreds leaves the thumb where it was."""
        new = Size(self.size.width, total)
        old = self.virtual_size
        if new == old:
            return
        height = self.size.height
        if old.width == new.width and (old.height > height) == (total > height) and height:
            self.set_reactive(ScrollView.virtual_size, new)
            bar = self.vertical_scrollbar if self.show_vertical_scrollbar else None
            if bar is None or not bar.size.height:
                self._scroll_update(new)
                return
            moved = scrollbar_cells(bar, old.height) != scrollbar_cells(bar, total)
            bar.set_reactive(ScrollBar.window_virtual_size, total)
            if moved:
                bar.refresh()
            self.scroll_y = self.validate_scroll_y(self.scroll_y)  # fewer rows: the end may come up
        else:
            self.virtual_size = new

    def unseen(self, batch: list[Any]) -> bool:
        """Do these order events touch nothing on view nor the count, judged without a read?
        (QueueSource.unseen)"""
        height = max(1, self.scrollable_content_region.height or self.size.height or 1)
        total = self.source.total
        if not (self._drawn and self.source.unseen(batch, int(self.scroll_y), height)):
            return False
        if self.source.total != total:  # new orders below the window: the scrollbar, not a line
            self._set_rows(self.source.total)
        return True

    def affected(self, ids: set[int]) -> bool:
        """Do changes to these orders touch the lines on view or the count? (QueueSource.affected)"""
        height = max(1, self.scrollable_content_region.height or self.size.height or 1)
        return self.source.affected(ids, int(self.scroll_y), height)

    def _line_key(self, y: int, top: int | None = None, width: int | None = None) -> tuple:
        """What line y draws: the row's drawn columns (a tick or a lease renewal bumps the row's
        version and changes nothing drawn), the cursor, the width (`top`, `width`: the caller's,
        when it asks for every line)."""
        index = (int(self.scroll_y) if top is None else top) + y
        total = self.source.total
        row = self.source.row(index) if total else None
        return (drawn_of(row) if row is not None else None, index == self.cursor,
                self.size.width if width is None else width, total == 0)

    def tick(self) -> None:
        """The clock moved on: redraw the due cells whose countdown text changed, nothing else."""
        if not self._due_drawn:
            return
        now = self._now_fn()
        x = 0
        for key, _h, w, _r in layout(self.size.width):
            x += 1  # the space before each cell
            if key == "due":
                break
            x += w
        else:
            return  # no due column at this width
        top = int(self.scroll_y)
        for y, text in list(self._due_drawn.items()):
            row = self.source.row(top + y)
            if row is None or self._cells(row, now)[0]["due"] != text:
                self.refresh(Region(x, y, w, 1))

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

    def _announce(self, moved: bool = False) -> None:
        """Tell the screen what is selected now, when that differs from what it was last told."""
        row = self.selected_row
        self.selected_id = row["id"] if row is not None else None
        said = (tuple(row) if row is not None else None, self.cursor)
        if said != self._announced:
            self._announced = said
            self.post_message(self.Highlighted(row, self.cursor, moved))

    def move_to(self, index: int) -> None:
        total = self.source.total
        if not total:
            return
        self.cursor = max(0, min(index, total - 1))
        self._show_cursor()
        self._announce(moved=True)
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
        base = self._style(None)
        key = self._drawn[y] = self._line_key(y)
        self._due_drawn.pop(y, None)
        if not self.source.total:
            if y == 0:
                style = base + self._style("queue--empty")
                return Strip([Segment(fit("  nothing here: no open orders match this view", width), style)], width)
            return Strip.blank(width, base)
        row = self.source.row(index)
        if row is None:
            return Strip.blank(width, base)
        # the same row drawn the same way, maybe on another line: an order landing above shifts
        # every line below it, and each of those is drawn from here, not built again
        now = self._now_fn()
        # (the focus too: the cursor bar is dimmer when the view does not have it)
        ckey = (key, base, self.app.theme, self.has_focus, int(now.timestamp() // 60),
                self.source.desk.store.rules_loaded)
        got = self._strips.get(ckey)
        if got is None:
            got = self._strips[ckey] = self._render_row(row, index == self.cursor, width, base)
            if len(self._strips) > STRIP_CACHE:
                self._strips.popitem(last=False)
        else:
            self._strips.move_to_end(ckey)
        strip, due = got
        self._due_drawn[y] = due
        return strip

    def _style(self, component: str | None, partial: bool = False) -> Style:
        """The view's own Rich style (None) or a component's, per theme and focus (the only things
        that change them here: `QueueView:focus > .queue--cursor`), and until the CSS is applied
        again (notify_style_update). Textual's own cache of component styles is dropped at every
        refresh, a one-line redraw included, and each style walks the widget's ancestors again:
        3-5 a row, a third of a changed row's cost (issue 14)."""
        key = (self.app.theme, self.has_focus, component, partial)
        got = self._styles.get(key)
        if got is None:
            got = self._styles[key] = (self.rich_style if component is None
                                       else self.get_component_rich_style(component, partial=partial))
        return got

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

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

    def _render_row(self, row: Any, is_cursor: bool, width: int, base: Style) -> tuple[Strip, str]:
        cells, sl = self._cells(row, self._now_fn())
        cols = layout(width)
        if cells["tier"] and not any(k == "tier" for k, *_ in cols):
            cells["customer"] = f"{cells['tier']} {cells['customer']}"
        row_style = base
        if row["state"] == "on_hold":
            row_style += self._style("queue--held")
        if is_cursor:
            row_style += self._style("queue--cursor")
        slack_style = self._style(f"queue--{sl.value.replace('_', '-')}", partial=True)
        mine_style = self._style("queue--mine", partial=True)
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
        # cells in the row's own style run together: a row is a few segments, not twenty, and every
        # step after this one (the compositor's cuts, the colour filter, the writer) goes per segment
        strip = Strip(Segment.simplify(segs))
        return strip.extend_cell_length(width, row_style).crop(0, width), cells["due"]
