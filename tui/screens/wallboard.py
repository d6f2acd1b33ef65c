"""The supervisor's wallboard: big numbers, queue by class, throughput, breaches, returns, reps.

Live: a StoreChanged recomputes from the indexed KPI reads (db/service/kpi.py), at most once a
second (tui.live: a board read across the room; each recompute costs tens of ms), unless every
change in it is one the board shows nothing of (a checklist tick). Issue 14: the clock recomputes
on the minute (dues show in minutes), and at the moment the first at-risk item breaches; only the
parts whose text changed are repainted (tui.repaint), those of fixed size without a relayout.
Supervisor actions on the selected breached / at-risk item: open it, reassign, force-release,
override its class, each through the service layer (which refuses anyone else).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Digits, Label, Sparkline, Static

from core.errors import OrderqError
from core.kpi import duration_text, pct_text
from core.labels import hold_label, state_label
from core.permissions import Action
from core.triage import humanize
from db.service import Desk
from db.service.kpi import WallItem, Wallboard
from tui.cropped_compositor import use_cropped_compositor
from tui.live import LiveScreen, shown
from tui.messages import OpenScreen, StoreChanged, go_back
from tui.plain import plain
from tui.repaint import Painted, fill_rows
from tui.role_keys import RoleKeys
from tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from core.calendar import Calendar

#: the longest the clock waits between recomputes (breaches and dues happen by the clock too)
TICK_S = 60.0
#: changes the board shows nothing of (the checklist, the header's PO and addresses): not recomputed for
UNSEEN_ACTIONS = frozenset({"tick", "untick", "header_changed"})


def hmm(seconds: float | None) -> str:
    """Cycle times for Digits: H:MM ('-:--' when unknown)."""
    if seconds is None:
        return "-:--"
    m = int(round(seconds / 60))
    return f"{m // 60}:{m % 60:02d}"


class WallboardScreen(LiveScreen, RoleKeys, Screen):
    NEEDS: ClassVar = {"reassign": Action.REASSIGN, "force_release": Action.FORCE_RELEASE, "override": Action.OVERRIDE}
    CSS_PATH = "wallboard.tcss"
    #: a board read across the room: at most one redraw a second for live changes (each costs ~30 ms;
    #: 2 s saved a little more CPU, but a supervisor watching a force-release waited up to 2 s for it)
    LIVE_INTERVAL = 1.0
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (40, "-tall")]
    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", id="wallboard.back"),
        Binding("enter", "open_item", "Open", id="wallboard.open"),
        Binding("a", "reassign", "Reassign", id="wallboard.reassign"),
        Binding("x", "force_release", "Force-release", id="wallboard.force-release"),
        Binding("o", "override", "Override class", id="wallboard.override"),
        Binding("f5", "refresh_now", "Refresh", id="wallboard.refresh"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        use_cropped_compositor(self)  # a live change renders the lines it changes, not every widget's
        self.desk = desk
        self.data: Wallboard | None = None
        self.refused: str | None = None
        self.refreshes = 0
        self._painted = Painted()  # what each part shows now (Statics, Digits, the sparkline, the tables)
        self._tick = None

    # ---- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("Wallboard", id="title")
        with Horizontal(id="bignums"):
            for key, label in (("depth", "queued"), ("breached", "breached"), ("risk", "at risk"),
                               ("met", "SLA met %"), ("p50", "rep p50 h:mm"), ("p90", "rep p90 h:mm")):
                with Vertical(classes="tile", id=f"tile-{key}"):
                    yield Label(label, classes="tile-label")
                    yield Digits("-", id=f"d-{key}")
        with Horizontal(id="middle"):
            with Vertical(id="classes", classes="panel"):
                yield Label("Queue by class", classes="panel-title")
                for p in ("P1", "P2", "P3", "P4"):
                    yield Static("", id=f"bar-{p}", classes="bar")
            with Vertical(id="flow", classes="panel"):
                yield Label("Released per hour, last 12 h", classes="panel-title")
                yield Sparkline([0] * 12, id="spark")
                yield Static("", id="rates")
            with Vertical(id="returns", classes="panel"):
                yield Label("Returns", classes="panel-title")
                yield Static("", id="returns-figures")
        with Horizontal(id="lists"):
            with Vertical(id="items-panel", classes="panel"):
                yield Label("Breached and at risk (enter open · a reassign · x force-release · o override)",
                            classes="panel-title", id="items-title")
                yield DataTable(id="items", cursor_type="row", zebra_stripes=True)
            with Vertical(id="reps-panel", classes="panel"):
                yield Label("Reps", classes="panel-title")
                yield DataTable(id="reps", cursor_type="none")
        yield KeyFooter()

    def on_mount(self) -> None:
        items = self.query_one("#items", DataTable)
        # Text, not str, in every cell: a str is parsed as Rich markup (tui.widgets.columns)
        items.add_columns(*map(Text, ("", "order", "cls", "due", "state", "customer")))
        reps = self.query_one("#reps", DataTable)
        reps.add_columns(*map(Text, ("rep", "on", "rel", "avg", "holding")))
        self.recompute()
        self.call_after_refresh(self._paint_bars)
        items.focus()

    # ---- live ---------------------------------------------------------------------------
    def unaffected_by(self, batch: list) -> bool:
        """Only changes the board does not count (ticks, header edits): no message (tui.live)."""
        return bool(batch) and all(e.action in UNSEEN_ACTIONS for e in batch)

    def on_store_changed(self, message: StoreChanged) -> None:
        if self.unaffected_by(message.events):
            return
        self.live_changed()  # coalesced (tui.live); a wallboard under another screen waits until shown

    def live_refresh(self, full: bool) -> None:
        self.recompute()

    def _arm_clock(self, d: Wallboard) -> None:
        """The next recompute by the clock alone: just after the store clock's next minute, or when
        the first at-risk item breaches if sooner (a test clock may run at any pace: TICK_S at most)."""
        if self._tick is not None:
            self._tick.stop()
        now = d.now.timestamp()
        wait = 60.0 - d.now.second - d.now.microsecond / 1e6 + 0.05
        if d.at_risk and d.at_risk[0].due_at > now:
            wait = min(wait, d.at_risk[0].due_at - now + 0.05)
        self._tick = self.set_timer(max(0.5, min(TICK_S, wait)), self._clock)

    def _clock(self) -> None:
        self._tick = None
        if shown(self):
            self.recompute()
        else:
            self._stale = True  # the clock starts again when the board is shown

    def action_refresh_now(self) -> None:
        self.recompute()

    def recompute(self) -> None:
        try:
            data = self.desk.kpi.wallboard(items=5 if self.size.height < 40 else max(5, (self.size.height - 24) // 2))
        except OrderqError as e:
            if self.refused != e.message:
                self.refused = e.message
                self._painted.put(self.query_one("#title", Static), plain(f"Wallboard: {e.message}"))
                self.notify(e.message, severity="error")
            return
        self.refused = None
        self.data = data
        self.refreshes += 1
        self._paint(data)
        self._arm_clock(data)

    # ---- painting -----------------------------------------------------------------------
    def _paint(self, d: Wallboard) -> None:
        o, r = d.report["orders"], d.report["returns"]
        depth = o["queue_depth"]
        self._put("#title",
            f"Wallboard {d.now.astimezone():%H:%M}{delivery_text(d.deliveries)} · queued {sum(depth.values())} · in progress "
            f"{o['in_progress']} · on hold {o['on_hold']} · oldest wait {duration_text(o['oldest_wait_s'])}"
            + (f" · {closed}" if (closed := self.desk.store.calendar.closed_text(d.now)) else ""), layout=False)
        met = o["sla_met_pct"]
        values = {
            "depth": str(sum(depth.values())), "breached": str(o["sla_breached_open"]),
            "risk": str(o["sla_at_risk"]), "met": "--" if met is None else f"{met:.0f}",
            # a rep's cycle time: touchless orders take none, and would pull the median to 0:00
            "p50": hmm(o["cycle_time_rep_p50_s"]), "p90": hmm(o["cycle_time_rep_p90_s"]),
        }
        for k, v in values.items():
            self._put(f"#d-{k}", v)
        self.query_one("#tile-breached").set_class(o["sla_breached_open"] > 0, "alert")
        self.query_one("#tile-risk").set_class(o["sla_at_risk"] > 0, "warn")
        self._paint_bars()
        if self._painted.changed("#spark", list(d.throughput)):
            self.query_one("#spark", Sparkline).data = list(d.throughput)
        self._put("#rates", layout=False, text=
            f"released today {o['released']} · last hour {d.throughput[-1] if d.throughput else 0}\n"
            f"touchless {pct_text(o['touchless_pct'])} · cycle p50 with them {duration_text(o['cycle_time_p50_s'])}\n"
            f"electronic {pct_text(o['electronic_share_pct'])} · "
            f"hold rate {pct_text(o['hold_rate_pct'])} · cancel {pct_text(o['cancel_rate_pct'])}\n"
            f"returns open {r['open']} · pending {r['pending_approval']} · rate {pct_text(r['return_rate_pct'])}")
        self._put("#returns-figures", layout=False, text=
            f"open {r['open']}\npending approval {r['pending_approval']}\nreturn rate {pct_text(r['return_rate_pct'])}\n"
            f"cycle p50 {duration_text(r['cycle_time_p50_s'])}\nrefund p50 {duration_text(r['refund_time_p50_s'])}")
        items = [(i.number, i.priority, i.state, i.due_at, i.claimed_by, i.customer_name, i.hold_reason)
                 for i in d.breached + d.at_risk]
        if self._painted.changed("items", (items, d.now.replace(second=0, microsecond=0))):  # dues in minutes
            self._paint_items(d)
        rep_rows = [(x["rep"], x.get("screen"), x.get("online"), x["released"], x["avg_handling_s"], tuple(x["holding"]))
                    for x in d.reps]
        if not self._painted.changed("reps", rep_rows):
            return
        rows = []
        for x in d.reps:
            if x["rep"] == "system":
                continue
            holding = " ".join(x["holding"][:3]) + (" …" if len(x["holding"]) > 3 else "")
            rows.append((x["rep"], [plain(x["rep"], multiline=False),
                                    plain((x.get("screen") or "●") if x.get("online") else "", multiline=False),
                                    Text(str(x["released"])), Text(duration_text(x["avg_handling_s"])),
                                    plain(holding or "—", multiline=False)]))
        fill_rows(self.query_one("#reps", DataTable), rows)

    def _put(self, widget_id: str, text: str, *, layout: bool = True) -> None:
        """Update a Static or Digits only when what it says changed; `layout=False` for a part whose
        size cannot change (the one-line title, the fixed-height panels): it repaints alone."""
        widget = self.query_one(widget_id)
        if isinstance(widget, Digits):  # its width follows the number: laid out again
            if self._painted.changed(widget_id, text):
                widget.update(text)
            return
        self._painted.put(widget, text, layout=layout)

    def _paint_bars(self) -> None:
        if self.data is None:
            return
        depth = self.data.report["orders"]["queue_depth"]
        panel = self.query_one("#classes")
        width = max(4, (panel.content_size.width or self.size.width // 3) - 10)
        peak = max(1, *depth.values())
        for p, n in depth.items():
            bar = "█" * max(1, round(width * n / peak)) if n else ""
            self._painted.put(self.query_one(f"#bar-{p}", Static),
                              Text.assemble((f"{p} ", "bold"), (f"{n:>5} ", ""), bar), layout=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._paint_bars)

    def _paint_items(self, d: Wallboard) -> None:
        table = self.query_one("#items", DataTable)
        keep = self.selected()
        rows = []
        for kind, items in (("BREACH", d.breached), ("RISK", d.at_risk)):
            for it in items:
                style = "bold red" if kind == "BREACH" else "bold yellow"
                rows.append((it.number, [Text(kind, style=style), Text(it.number), Text(it.priority),
                                         Text(_due(it.due_at, d.now, self.desk.store.calendar)),
                                         plain(where(it), multiline=False),
                                         plain(it.customer_name or it.customer, multiline=False)]))
        refilled = fill_rows(table, rows)  # else the same items, changed in place: the cursor stays
        # as tall as its rows (and the heading): no band of empty rows under a short list
        table.styles.height = table.row_count + 1 if table.row_count else 1
        self._painted.put(self.query_one("#items-title", Label),
            "Breached and at risk (enter open · a reassign · x force-release · o override)" if table.row_count
            else "Breached and at risk: none right now", layout=False)
        if refilled and keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(keep))
            except Exception:  # noqa: BLE001 - the item left the list
                pass

    # ---- actions ------------------------------------------------------------------------
    def selected(self) -> str | None:
        table = self.query_one("#items", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key
        except Exception:  # noqa: BLE001
            return None
        return key.value if key is not None else None

    def _need_item(self) -> str | None:
        number = self.selected()
        if number is None:
            self.notify("no breached or at-risk item selected", severity="warning")
        return number

    def _after_write(self, msg: str | None) -> None:
        """A form closed: what it did is said, and the board redrawn as it is now either way (a
        form refused because the item changed meanwhile shows the change at once)."""
        if msg:
            self.notify(msg)
            poke = getattr(self.app, "feed_poke", None)
            if callable(poke):
                poke()
        self.recompute()

    @on(DataTable.RowSelected, "#items")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """enter on the focused list (the table takes the key itself): open that item."""
        event.stop()
        self.action_open_item()

    def action_back(self) -> None:
        go_back(self)

    def action_open_item(self) -> None:
        number = self._need_item()
        if number is None:
            return
        self.post_message(OpenScreen("order", number, None))

    def action_reassign(self) -> None:
        number = self._need_item()
        if number is None:
            return
        from tui.widgets.supervisor_forms import reassign_form  # the forms load when first asked for

        try:  # the version as the supervisor opens the form: a rival reassign meanwhile is a conflict
            dialog = reassign_form(self.desk, number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        self.app.push_screen(dialog, self._after_write)

    def action_force_release(self) -> None:
        number = self._need_item()
        if number is not None:
            from tui.widgets.supervisor_forms import force_release_form

            self.app.push_screen(force_release_form(self.desk, number), self._after_write)

    def action_override(self) -> None:
        number = self._need_item()
        if number is not None:
            from tui.widgets.supervisor_forms import override_form

            self.app.push_screen(override_form(self.desk, number), self._after_write)


def delivery_text(counts: dict[str, int]) -> str:
    """The outbox on the title line, first so that 80 columns still show it; nothing when all is sent."""
    pending, failed = counts.get("pending", 0), counts.get("failed", 0)
    if not (pending or failed):
        return ""
    return " · deliveries " + ", ".join(x for x in (f"{failed} FAILED" if failed else "",
                                                    f"{pending} pending" if pending else "") if x)


def where(it: WallItem) -> str:
    """What an item waits on: its hold's reason, who is working it, or nobody yet."""
    if it.state == "on_hold":
        return f"hold: {hold_label(it.hold_reason)}" if it.hold_reason else state_label(it.state)
    if it.claimed_by:
        return f"with {it.claimed_by}"
    return state_label(it.state)


def _due(due_at: float, now: datetime, cal: Calendar) -> str:
    """Compact: '-2d 22h' overdue, '4m' to go: open time, as the queue's countdown."""
    left = cal.open_s(now.timestamp(), due_at)
    return ("-" if due_at < now.timestamp() else "") + humanize(timedelta(seconds=left))

