"""Order processing: one order, worked with the keyboard.

Header (number, customer and tier, channel, type, class and why, due countdown, state, who holds
it), the lines grid, totals, the checklist (1-9 tick a step), hold / unhold / release / cancel,
editing the lines of a claimed order, and the order's history from the event log. Every action
goes through `desk.orders` with this session's claim token; a refusal is a notification, or a
message next to the field in a dialog. The screen follows the store live: when another session
claims or changes this order it reloads and says who did what.

Leaving with Esc gives the claim back (the order returns to the queue, as a rep expects when they
walk away from it); `b` goes back and keeps the claim, which the app keeps renewing.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from core.enums import OrderState
from core.errors import OrderqError
from core.models import Order
from core.permissions import Action
from core.money import fmt
from db.events import last_id
from db.service import Desk
from tui.cropped_compositor import use_cropped_compositor
from tui.plain import styled
from tui.role_keys import RoleKeys
from tui.widgets.columns import lay_out
from tui.widgets.footer import KeyFooter
from tui.widgets.history_table import HistoryTable
from tui.widgets.lines_edit import LinesEdit
from tui.widgets.order_checklist_view import checklist_content, release_block
from tui.widgets.order_header_view import header_details, po_dialog
from tui.widgets.order_history import describe
from tui.widgets.order_fulfil_keys import FulfilKeys
from tui.widgets.order_hold_keys import HoldCancelKeys
from tui.repaint import Painted
from tui.widgets.order_live import FollowsOrder
from tui.widgets.order_lines_view import line_cells, line_columns, totals_text
from tui.widgets.order_status_view import status_header
from tui.widgets.edi_order_view import ack_events, edi_header, edi_info

__all__ = ["LinesEdit", "OrderScreen"]  # LinesEdit: its dialog, opened from here (tests reach it by this name)


class OrderScreen(FollowsOrder, HoldCancelKeys, FulfilKeys, RoleKeys, Screen):
    NEEDS = {a: Action.ORDER_WORK
             for a in ("claim", "tick", "edit_lines", "hold", "unhold", "release", "cancel_order", "po", "edi_map")} | {
        "ship": Action.ORDER_SHIP, "receive_stock": Action.STOCK_RECEIVE}
    #: what a rep does most here comes first in the footer; the rest are in the palette and F1
    FOOTER_FIRST = ("order.claim", "order.tick", "order.release", "order.hold", "order.edit-lines", "order.back")
    #: once released, what is left to do is fulfilment's: those keys lead instead
    FOOTER_FULFIL = ("order.ship", "order.receive-stock", "order.history", "order.back-keep")
    CSS_PATH = "order.tcss"
    BINDINGS = [
        Binding("escape", "back", "Give back", id="order.back", tooltip="Back to the queue, giving the claim back"),
        Binding("b", "back_keep", "Keep & back", id="order.back-keep", tooltip="Back to the queue, keeping the claim"),
        Binding("c", "claim", "Claim", id="order.claim", tooltip="Claim this order"),
        Binding("1", "tick(1)", "Tick", key_display="1-9", id="order.tick", tooltip="Tick (or untick) checklist step 1"),
        *[Binding(str(n), f"tick({n})", f"Tick step {n}", show=False, id=f"order.tick-{n}",
                  tooltip=f"Tick (or untick) checklist step {n}") for n in range(2, 10)],
        Binding("e", "edit_lines", "Lines", id="order.edit-lines", tooltip="Edit the lines (claimed orders)"),
        Binding("h", "hold", "Hold", id="order.hold", tooltip="Put on hold with a reason and a note"),
        Binding("u", "unhold", "Unhold", id="order.unhold", tooltip="Take off hold (needs a note)"),
        Binding("r", "release", "Release", id="order.release", tooltip="Release to fulfilment"),
        Binding("n", "release_next", "Release & next", id="order.release-next",
                tooltip="Release to fulfilment, then claim the next order in the queue's view"),
        Binding("p", "po", "PO", id="order.po", tooltip="Set the customer's PO number"),
        Binding("s", "ship", "Ship", id="order.ship",
                tooltip="Ship what is left (released or backordered orders), line by line"),
        Binding("k", "receive_stock", "Receive stock", id="order.receive-stock",
                tooltip="Book stock received for a short line; waiting orders get it earliest due first"),
        Binding("x", "cancel_order", "Cancel", id="order.cancel", tooltip="Cancel the order with a reason"),
        Binding("l", "history", "History", id="order.history", tooltip="Show or hide the history"),
        Binding("w", "edi_raw", "Raw EDI", id="order.edi-raw", tooltip="An EDI order's original segments"),
        Binding("f4", "edi_map", "Map code", id="order.edi-map",
                tooltip="Map an EDI order's unknown partner item code to a SKU (saved to the partner's xref)"),
        Binding("ctrl+r", "reload", "Reload", id="order.reload", show=False, tooltip="Reload from the database"),
    ]

    def __init__(self, desk: Desk, number: str, token: str | None = None) -> None:
        super().__init__()
        use_cropped_compositor(self)  # a live change renders the lines it changes, not every widget's
        self.desk = desk
        self.number = number
        self._token = token
        self._fresh_at = last_id(desk.store.conn)
        self.order: Order = desk.orders.get(number)
        self.number = self.order.number
        self.edi = edi_info(desk, self.number) if self.order.channel.value == "edi" else None
        self._painted = Painted()  # what each part shows now: a live reload repaints what changed

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edi_raw", "edi_map") and self.edi is None:  # an EDI order's keys only
            return False
        return super().check_action(action, parameters)

    # ---- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="order-header")
        with Horizontal(id="order-body"):
            with Vertical(id="order-left"):
                yield DataTable(id="order-lines", cursor_type="row", zebra_stripes=True)
                yield Static("", id="order-totals")
            with Vertical(id="order-right"):
                yield Static("", id="order-checklist")
                yield Static("", id="order-release")
        yield HistoryTable(id="order-history")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#order-lines", DataTable)
        self._set_line_columns(line_columns(self.app.size.width * 2 // 3 - 4))
        self.query_one("#order-history").display = False
        if self._token is None:
            reg = getattr(self.app, "claims", None)
            self._token = reg.token_for(self.number) if reg is not None else None
        self.query_one("#order-left").border_title = "Lines"
        self.query_one("#order-right").border_title = "Checklist"
        self.show()
        table.focus()
        # the countdown moves, and the app renews the lease without an event: re-read now and then
        # (the holder's screen: the lease shows); anyone else's only redraws the countdown (issue 14)
        self.set_interval(10, lambda: self.reload() if self.mine else self.show_header())

    # ---- state -------------------------------------------------------------------------
    @property
    def me(self) -> str:
        return self.desk.actor.name

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def mine(self) -> bool:
        o = self.order
        return o.claimed_by == self.me and self._token is not None and o.claim_token == self._token

    def _registry(self):  # noqa: ANN202 - the app's claims registry, if any
        return getattr(self.app, "claims", None)

    def _forget_claim(self) -> None:
        self._token = None
        reg = self._registry()
        if reg is not None:
            reg.remove(self.number)

    def _poke(self) -> None:
        poke = getattr(self.app, "feed_poke", None)
        if poke is not None:
            poke()

    def reload(self) -> None:
        self._fresh_at = last_id(self.desk.store.conn)  # events up to here are in what is read now
        try:
            self.order = self.desk.orders.get(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        if self._token is not None and self.order.claim_token != self._token:
            self._forget_claim()
        self.show()

    def action_reload(self) -> None:
        self.reload()

    # ---- drawing -----------------------------------------------------------------------
    def show(self) -> None:
        fulfil = self.order.state in (OrderState.RELEASED, OrderState.BACKORDERED)
        first = self.FOOTER_FULFIL if fulfil else type(self).FOOTER_FIRST
        if first != self.FOOTER_FIRST:
            self.FOOTER_FIRST = first
            self.query_one(KeyFooter).redraw()
        self.show_header()
        self.show_lines()
        self.show_checklist()
        self.show_release()
        if self.query_one("#order-history").display:
            self.show_history()

    def show_header(self) -> None:
        o = self.order
        header = status_header(o, now=self.desk.now(), cal=self.desk.store.calendar,
                               at_risk=self.desk.ctx.rules.at_risk, me=self.me, mine=self.mine)
        self.edi = edi_info(self.desk, o.number) if o.channel.value == "edi" else None
        edi = edi_header(self.edi)
        self._painted.put(self.query_one("#order-header", Static),
                          Content("\n").join([header, *([edi] if edi else []), header_details(o)]))

    def _set_line_columns(self, cols: list[tuple[str, str, int, bool]]) -> bool:
        """Lay the lines table out for its width; True if the columns changed."""
        self._line_cols = cols
        return lay_out(self.query_one("#order-lines", DataTable), cols)

    def on_resize(self, _event: object) -> None:
        width = self.query_one("#order-lines", DataTable).size.width
        if width and self._set_line_columns(line_columns(width)):
            self.show_lines(force=True)

    def show_lines(self, *, force: bool = False) -> None:
        table = self.query_one("#order-lines", DataTable)
        keys = [k for k, *_ in self._line_cols]
        rows = [(str(ln.line_no), line_cells(ln, keys)) for ln in self.order.lines]
        if self._painted.changed("lines", rows) or force:
            row = table.cursor_row
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
            if rows:
                table.move_cursor(row=min(row, len(rows) - 1))
        self._painted.put(self.query_one("#order-totals", Static), totals_text(self.order))

    def show_checklist(self) -> None:
        self._painted.put(self.query_one("#order-checklist", Static), checklist_content(self.order))

    def release_block(self) -> str | None:
        """Why `r` would be refused right now, in the service's own words; None when it would go."""
        return release_block(self.order, mine=self.mine)

    def show_release(self) -> None:
        block = self.release_block()
        w = self.query_one("#order-release", Static)
        if block is None:
            self._painted.put(w, "[b $success]Ready to release (r)[/]")
        else:
            self._painted.put(w, styled("[b]Release blocked[/]: $block", block=block))
        w.set_class(block is None, "-ready")

    def show_history(self) -> None:
        try:
            events = self.desk.orders.history(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        events = sorted([*events, *ack_events(self.edi)], key=lambda e: e.at)
        self.query_one("#order-history", HistoryTable).show(events, describe)

    # ---- actions -----------------------------------------------------------------------
    def _run(self, what: str, fn, *args, **kw) -> bool:  # noqa: ANN001, ANN003
        try:
            fn(*args, **kw)
        except OrderqError as e:
            self.notify(e.message, severity="error", title=f"{what}: refused")
            self.reload()
            return False
        except Exception as e:  # noqa: BLE001 - never a traceback on the rep's screen
            self.log.error(f"{what} failed: {e!r}")
            self.notify(f"{what} failed: {e}; nothing was changed", severity="error")
            self.reload()
            return False
        self._poke()
        self.reload()
        return True

    def action_claim(self) -> None:
        lease = self.order.lease_expires_at
        if self.mine and not (lease and lease < self.desk.now()):
            self.notify("you hold this order already")
            return
        take_over = self.order.claimed_by == self.me and not self.mine and not (lease and lease < self.desk.now())
        if take_over:
            from tui.widgets.take_over import take_over_confirm

            self.app.push_screen(take_over_confirm(self.number), lambda yes: self._claim(take_over=True) if yes else None)
            return
        self._claim(take_over=False)

    def _claim(self, *, take_over: bool) -> None:
        try:
            got = self.desk.orders.take_over(self.number) if take_over else self.desk.orders.claim(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error", title="Claim: refused")
            self.reload()
            return
        self._token = got.claim_token
        reg = self._registry()
        if reg is not None:
            reg.add("orders", self.number, got.claim_token)
        self._poke()
        self.reload()
        self.notify(f"{self.number} is yours until {got.lease_expires_at:%H:%M} UTC (renewed while you work)")

    def action_tick(self, n: int) -> None:
        """Tick step n; on a ticked step, take the tick back (a slip of the finger is one key to undo)."""
        steps = self.order.checklist
        if not 1 <= n <= len(steps):
            self.notify(f"there is no step {n} (the checklist has {len(steps)})", severity="warning")
            return
        step = steps[n - 1]
        if step in self.order.ticked:
            self._run("Untick", self.desk.orders.untick, self.number, step, token=self.token)
        else:
            self._run("Tick", self.desk.orders.tick, self.number, step, token=self.token)

    def action_edit_lines(self) -> None:
        if not self.mine:
            self.notify("claim the order first (c) to change its lines", severity="warning")
            return

        def saved(order: Order | None) -> None:
            if order is None:
                return
            self._poke()
            self.reload()
            self.notify(f"lines saved · total {fmt(order.total)}")

        self.app.push_screen(LinesEdit(self.desk, self.order, self.token), saved)

    def action_release(self) -> None:
        token = self.token
        if self._run("Release", self.desk.orders.release, self.number, token=token):
            self._forget_claim()
            self.show()
            self.notify(f"{self.number} released to fulfilment · Esc back to the queue")

    def action_po(self) -> None:
        """p: the customer's PO number (a "PO required" customer's order is released only with one)."""
        self.app.push_screen(po_dialog(self.desk, self.number, self.order.po_number, self.token),
                             lambda po: self._header_done(po))

    def _header_done(self, po: str | None) -> None:
        if po is None:
            return
        self._poke()
        self.reload()
        self.notify(f"{self.number}: PO {po or '(none)'}")

    def action_release_next(self) -> None:
        """Release, then claim and open the next order within the queue's filter (tui.claim_next)."""
        from tui.claim_next import claim_in_view

        released = self.number
        if not self._run("Release", self.desk.orders.release, self.number, token=self.token):
            return
        self._forget_claim()
        try:
            got = claim_in_view(self.app, self.desk)
        except OrderqError as e:
            self.notify(e.message, severity="error", title="Claim next: refused")
            got = None
        if got is None:
            self.show()
            return
        self.app.switch_screen(OrderScreen(self.desk, got.number, got.claim_token))
        self.app.notify(f"{released} released · {got.number} is yours")

    def action_history(self) -> None:
        hist = self.query_one("#order-history", HistoryTable)
        hist.display = not hist.display
        if hist.display:
            self.show_history()

    def _leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_back(self) -> None:
        if self.mine and self.order.state == OrderState.IN_PROGRESS:
            try:
                self.desk.orders.unclaim(self.number, self.token)
            except OrderqError as e:
                self.notify(e.message, severity="warning")
            else:
                self.notify(f"{self.number} given back to the queue")
            self._forget_claim()
            self._poke()
        self._leave()

    def action_back_keep(self) -> None:
        self._leave()
