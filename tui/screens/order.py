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

from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static

from core import orders as machine
from core.delivery import HISTORY_ACTION as DELIVERY_EVENT, describe as delivery_words
from core.enums import HoldReason, OrderState
from core.errors import DomainError, OrderqError
from core.labels import channel_label, hold_label, state_label
from core.models import Event, Order
from core.permissions import Action
from core.money import fmt, price_text
from core.triage import Slack, due_text, slack
from db.service import Desk
from tui.messages import StoreChanged
from tui.plain import plain, styled
from tui.role_keys import RoleKeys
from tui.widgets.columns import fit_columns, lay_out
from tui.widgets.footer import KeyFooter
from tui.widgets.history_table import HistoryTable
from tui.widgets.lines_grid import LinesGrid
from tui.widgets.note_dialog import NoteDialog
from tui.widgets.order_header_view import checklist_detail, header_details, po_block, po_dialog
from tui.widgets.prompt_list import PromptList

HOLD_REASONS: dict[HoldReason, str] = {
    HoldReason.CUSTOMER_INFO: "waiting on the customer for information (SLA paused)",
    HoldReason.CUSTOMER_REQUEST: "the customer asked us to wait (SLA paused)",
    HoldReason.PRICING: "pricing to be confirmed",
    HoldReason.STOCK: "a line needs more stock than is available",
    HoldReason.CREDIT: "over the credit limit (only a supervisor lifts it)",
}
CANCEL_REASONS = [
    ("customer cancelled", "the customer called off the order"),
    ("duplicate order", "entered twice"),
    ("no stock, no substitute", "cannot be supplied"),
    ("pricing not accepted", "the customer refused the price"),
    ("entered in error", "wrong customer or wrong items"),
]
_SLACK_STYLE = {Slack.OVERDUE: "bold $error", Slack.AT_RISK: "bold $warning", Slack.SOON: "$warning", Slack.OK: "$success"}
_STATE_STYLE = {
    OrderState.IN_PROGRESS: "bold $accent", OrderState.ON_HOLD: "bold $warning", OrderState.RELEASED: "bold $success",
    OrderState.CANCELLED: "bold $error", OrderState.QUEUED: "bold", OrderState.BACKORDERED: "bold $warning",
}


def backorder_text(o: Order) -> tuple[str, str]:
    """What a released or part-shipped order still owes, as (label, detail): its backorder line by
    line, or what is in hand and ready to ship. ("", "") when nothing is owed to fulfilment."""
    if o.state not in (OrderState.RELEASED, OrderState.BACKORDERED):
        return "", ""
    waiting = [f"line {ln.line_no} {ln.sku} ×{ln.qty_backordered}" for ln in o.lines if ln.qty_backordered]
    ready = sum(ln.qty_allocated - ln.qty_shipped for ln in o.lines)
    in_hand = f"{ready} unit{'s' if ready != 1 else ''} in hand, ready to ship"
    if waiting:
        return "BACKORDER", "waiting for stock: " + ", ".join(waiting) + (f" · {in_hand}" if ready else "")
    return ("READY TO SHIP", in_hand) if ready else ("", "")


#: the lines table: (key, heading, width, right-aligned); the description takes what is left
LINE_COLUMNS = [("no", "#", 2, False), ("sku", "SKU", 10, False), ("desc", "Description", 0, False),
                ("qty", "Qty", 5, True), ("price", "Price", 8, True), ("disc", "Disc%", 5, True),
                ("amount", "Amount", 10, True), ("shipped", "Sent", 4, True)]  # Sent: units shipped of the line
#: given up in this order when the panel is narrow; the amount always stays
LINE_DROP_FIRST = ("disc", "shipped", "price")
MIN_DESC, MAX_DESC = 8, 30


def line_columns(width: int) -> list[tuple[str, str, int, bool]]:
    """The columns that fit `width` cells (a DataTable pads each cell by one space either side)."""
    return fit_columns(LINE_COLUMNS, width - 1, LINE_DROP_FIRST, pad=2, min_flex=MIN_DESC, max_flex=MAX_DESC)


def pct(d: Decimal) -> str:
    return "" if d == 0 else f"{d:.2f}".rstrip("0").rstrip(".")


def describe(e: Event) -> str:
    """One event in the words a rep would use."""
    d = e.data
    a = e.action
    if a == "claim":
        return "claimed it"
    if a == "unclaim":
        return "gave it back to the queue"
    if a == "lease_expired":
        return "ended a lapsed claim"
    if a == "force_release":
        return f"force-released the claim ({d.get('reason') or 'no reason'})"
    if a == "reassign":
        return f"reassigned it to {d.get('to')}"
    if a == "hold":
        return f"put it on hold ({hold_label(d.get('reason'))}" + (f": {d['note']}" if d.get("note") else "") + ")"
    if a == "unhold":
        return f"took it off hold ({d.get('note')})"
    if a == "tick":
        return f"ticked '{d.get('step')}'"
    if a == "untick":
        return f"unticked '{d.get('step')}'"
    if a == "lines_changed":
        return f"changed the lines (total {d.get('total')})"
    if a == "release":
        return "released it to fulfilment"
    if a == "auto_release":
        return "released it straight through"
    if a == "ship":
        units = d.get("shipped") or {}
        what = ", ".join(f"line {k} ×{v}" for k, v in units.items())
        return ("shipped it" if d.get("complete", True) else "shipped part of it") + (f" ({what})" if what else "")
    if a == "stock_allocated":
        left = d.get("backordered")
        return "set received stock aside for it" + (f" ({left} still on backorder)" if left else " (ready to ship)")
    if a == "cancel":
        return f"cancelled it ({d.get('reason')})"
    if a == "override":
        return f"overrode its class/due ({d.get('reason')})"
    if a == DELIVERY_EVENT:
        return delivery_words(d)
    if a == "created":
        return f"created it ({channel_label(d.get('channel'))}, {d.get('type')}, {d.get('lines')} lines)"
    return a.replace("_", " ")


class LinesEdit(ModalScreen[Order | None]):
    """Edit the lines of a claimed order, with the same checks as entry; Ctrl+S saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save lines", id="order-lines.save", priority=True),
        Binding("escape", "cancel", "Discard", id="order-lines.cancel"),
    ]
    DEFAULT_CSS = """
    LinesEdit { align: center middle; }
    LinesEdit > Vertical { width: 96%; height: 80%; border: round $accent; background: $surface; }
    LinesEdit .edit-help { color: $text-muted; height: 1; }
    """

    def __init__(self, desk: Desk, order: Order, token: str | None) -> None:
        super().__init__()
        self.desk = desk
        self.order = order
        self.token = token

    def compose(self) -> ComposeResult:
        lines = [(ln.sku, str(ln.qty), pct(ln.discount_pct)) for ln in self.order.lines]
        with Vertical():
            yield LinesGrid(self.desk.catalog.products(), lines, id="edit-lines")
            yield Label("Enter next field · Ctrl+D delete line · F4 list SKUs · Ctrl+S save · Esc discard",
                        classes="edit-help")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = f"Lines of {self.order.number}"
        grid = self.query_one(LinesGrid)
        grid.rows[0].qty_input.focus() if self.order.lines else grid.focus_first()

    def on_lines_grid_done(self, _event: LinesGrid.Done) -> None:
        self.action_save()

    def action_save(self) -> None:
        grid = self.query_one(LinesGrid)
        bad = grid.validate()
        if bad is not None:
            bad.focus()
            self.app.bell()
            return
        try:
            order = self.desk.orders.set_lines(self.order.number, grid.line_inputs(), token=self.token,
                                               expected_version=self.order.version)
        except OrderqError as e:
            if (e.field or "").startswith("lines."):
                w = grid.show_error(e.field or "", e.message)
                if w is not None:
                    w.focus()
            else:
                self.notify(e.message, severity="error", title="Lines not saved")
            return
        self.dismiss(order)

    def action_cancel(self) -> None:
        from tui.widgets.note_dialog import Confirm

        grid = self.query_one(LinesGrid)
        now = [(li.sku, str(li.qty), str(li.discount_pct)) for li in grid.line_inputs()]
        was = [(ln.sku, str(ln.qty), pct(ln.discount_pct) or "0") for ln in self.order.lines]
        if now == was:
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(Confirm("Discard your changes to the lines?", "Enter: discard", "Esc: keep editing"),
                             answered)


class OrderScreen(RoleKeys, Screen):
    NEEDS = {a: Action.ORDER_WORK
             for a in ("claim", "tick", "edit_lines", "hold", "unhold", "release", "cancel_order", "po")}
    #: what a rep does most here comes first in the footer; the rest are in the palette and F1
    FOOTER_FIRST = ("order.claim", "order.tick", "order.release", "order.hold", "order.edit-lines", "order.back")
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
        Binding("x", "cancel_order", "Cancel", id="order.cancel", tooltip="Cancel the order with a reason"),
        Binding("l", "history", "History", id="order.history", tooltip="Show or hide the history"),
        Binding("ctrl+r", "reload", "Reload", id="order.reload", show=False, tooltip="Reload from the database"),
    ]

    def __init__(self, desk: Desk, number: str, token: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.number = number
        self._token = token
        self.order: Order = desk.orders.get(number)
        self.number = self.order.number

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
        self.set_interval(10, self.reload)

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
        self.show_header()
        self.show_lines()
        self.show_checklist()
        self.show_release()
        if self.query_one("#order-history").display:
            self.show_history()

    def show_header(self) -> None:
        o = self.order
        now = self.desk.now()
        cal = self.desk.store.calendar
        due_at = o.effective_due(now, cal)
        sl = slack(due_at, now, self.desk.ctx.rules.at_risk, cal)
        state = state_label(o.state)
        due = f"[{_SLACK_STYLE[sl]}]{'SLA' if o.sla_paused else 'due'} $due_in[/] ($due_at UTC)"
        if not o.state.open:
            due = "due was $due_was UTC"
        lines = [
            f"[b]$number[/]   [{_STATE_STYLE.get(o.state, 'bold')}]$state[/]   [b]$klass[/]   {due}",
            "Customer [b]$code[/] $name ([b]$tier[/])   credit $credit · balance $balance",
            "Channel [b]$channel[/]   Type [b]$type[/]   Class $klass: $source",
        ]
        if o.claimed_by is None:
            who = "Not claimed" + ("   (c claims it)" if o.state == OrderState.QUEUED else "")
        elif o.claimed_by == self.me:
            who = "Claimed by [b]you[/]" if self.mine else "Claimed by you [b $warning]in another session[/] (c takes it over)"
            if o.lease_expires_at and o.lease_expires_at < now:
                who += " · [b $error]lease lapsed at $lease UTC[/]: claim it again (c)"
            elif o.lease_expires_at:
                who += " · lease until $lease UTC"
        else:
            who = "Claimed by [b $warning]$claimed_by[/]"
        lines.append(who)
        if o.hold_reason:
            lines.append("[b $warning]ON HOLD ($hold)[/]: $hold_note")
        if o.queue_reason:
            lines.append("Queued for a rep: $queue_reason")
        owed_head, owed = backorder_text(o)
        if owed_head:
            lines.append("[b $warning]$owed_head[/] $owed")
        header = styled(
            "\n".join(lines), number=o.number, state=state, klass=o.priority.value, due_in=due_text(due_at, now, o.sla_paused, cal),
            due_at=f"{due_at:%Y-%m-%d %H:%M}", due_was=f"{o.due_at:%Y-%m-%d %H:%M}", code=o.customer.code,
            name=o.customer.name, tier=o.customer.tier.value.replace("_", " "), credit=fmt(o.customer.credit_limit),
            balance=fmt(o.customer.open_balance), channel=channel_label(o.channel), type=o.type, source=o.priority_source,
            lease=f"{o.lease_expires_at:%H:%M:%S}" if o.lease_expires_at else "", claimed_by=o.claimed_by,
            hold=hold_label(o.hold_reason) if o.hold_reason else "", hold_note=o.hold_note, queue_reason=o.queue_reason,
            owed_head=owed_head, owed=owed)
        self.query_one("#order-header", Static).update(Content("\n").join([header, header_details(o)]))

    def _set_line_columns(self, cols: list[tuple[str, str, int, bool]]) -> bool:
        """Lay the lines table out for its width; True if the columns changed."""
        self._line_cols = cols
        return lay_out(self.query_one("#order-lines", DataTable), cols)

    def on_resize(self, _event: object) -> None:
        width = self.query_one("#order-lines", DataTable).size.width
        if width and self._set_line_columns(line_columns(width)):
            self.show_lines()

    def show_lines(self) -> None:
        table = self.query_one("#order-lines", DataTable)
        row = table.cursor_row
        table.clear()
        keys = [k for k, *_ in self._line_cols]
        for ln in self.order.lines:
            cells = {"no": str(ln.line_no), "sku": plain(ln.sku, multiline=False),
                     "desc": plain(ln.description, multiline=False), "qty": Text(str(ln.qty), justify="right"),
                     "price": Text(price_text(ln.unit_price), justify="right"),
                     "disc": Text(pct(ln.discount_pct), justify="right"),
                     "amount": Text(fmt(ln.amount), justify="right"),
                     "shipped": Text(str(ln.qty_shipped), justify="right")}
            table.add_row(*(cells[k] for k in keys), key=str(ln.line_no))
        if self.order.lines:
            table.move_cursor(row=min(row, len(self.order.lines) - 1))
        o = self.order
        sub = sum((ln.amount for ln in o.lines), Decimal(0))
        charges = sum((c.amount for c in o.charges), Decimal(0))
        self.query_one("#order-totals", Static).update(
            f"{len(o.lines)} line{'s' if len(o.lines) != 1 else ''} · subtotal {fmt(sub)} · charges {fmt(charges)} · [b]total {fmt(o.total)}[/]"
        )

    def show_checklist(self) -> None:
        o = self.order
        out = []
        for n, step in enumerate(o.checklist, start=1):
            who = o.ticked.get(step)
            if who:
                out.append(styled("[$success]\\[x][/] $n $step  [dim]($who)[/]", n=n, step=step, who=who))
            else:
                out.append(styled("\\[ ] $n $step", n=n, step=step))
            if (detail := checklist_detail(step, o)) is not None:
                out.append(detail)
        if not out:
            out.append(styled("[dim]no checklist for this type[/]"))
        self.query_one("#order-checklist", Static).update(Content("\n").join(out))

    def release_block(self) -> str | None:
        """Why `r` would be refused right now, in the service's own words; None when it would go."""
        o = self.order
        try:
            machine.transition(o.state, "release")
        except DomainError as e:
            return e.message
        if not self.mine:
            return "claim it first (c)" if o.claimed_by is None else f"claimed by {o.claimed_by}"
        try:
            machine.guard_release(o.checklist, o.ticked, len(o.lines))
        except DomainError as e:
            return e.message
        return po_block(o)

    def show_release(self) -> None:
        block = self.release_block()
        w = self.query_one("#order-release", Static)
        if block is None:
            w.update("[b $success]Ready to release (r)[/]")
        else:
            w.update(styled("[b]Release blocked[/]: $block", block=block))
        w.set_class(block is None, "-ready")

    def show_history(self) -> None:
        try:
            events = self.desk.orders.history(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        self.query_one("#order-history", HistoryTable).show(events, describe)

    # ---- live --------------------------------------------------------------------------
    def on_store_changed(self, message: StoreChanged) -> None:
        mine = [e for e in message.events
                if e.entity == "order" and (e.entity_id == self.order.id or e.ref == self.number)]
        if not mine:
            return
        had_claim = self.mine
        self.reload()
        for e in mine:
            if e.actor != self.me:
                self.notify(f"{e.actor} {describe(e)}", title=f"{self.number} changed",
                            severity="warning" if e.action in ("claim", "force_release", "reassign", "cancel", "hold", "lease_expired") else "information")
        if had_claim and not self.mine and all(e.actor == self.me for e in mine):
            self.notify("your claim on this order ended in another session", severity="warning")

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

    def action_hold(self) -> None:
        items = [(r.value, text) for r, text in HOLD_REASONS.items()]

        def reason_picked(reason: str | None) -> None:
            if reason is None:
                return
            token = self.token

            def submit(note: str) -> None:
                self.desk.orders.hold(self.number, reason, note or None, token=token)

            def done(note: str | None) -> None:
                if note is None:
                    return
                self._forget_claim()
                self._poke()
                self.reload()
                self.notify(f"{self.number} on hold ({reason})")

            self.app.push_screen(NoteDialog(f"Hold {self.number}: {reason}", "Note (what are we waiting for?)",
                                            submit, placeholder="optional"), done)

        self.app.push_screen(PromptList("Hold reason", items), reason_picked)

    def action_unhold(self) -> None:
        if self.order.state != OrderState.ON_HOLD:
            self.notify(f"{self.number} is not on hold", severity="warning")
            return

        def submit(note: str) -> None:
            self.desk.orders.unhold(self.number, note)

        def done(note: str | None) -> None:
            if note is None:
                return
            self._poke()
            self.reload()
            self.notify(f"{self.number} is off hold and back in the queue")

        reason = self.order.hold_reason.value if self.order.hold_reason else ""
        self.app.push_screen(NoteDialog(f"Unhold {self.number} ({reason})", "Note (required): why can it go ahead?",
                                        submit, placeholder="required"), done)

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

    def action_cancel_order(self) -> None:
        def reason_picked(reason: str | None) -> None:
            if reason is None:
                return
            token = self.token

            def submit(text: str) -> None:
                self.desk.orders.cancel(self.number, text, token=token)

            def done(text: str | None) -> None:
                if text is None:
                    return
                self._forget_claim()
                self._poke()
                self.reload()
                self.notify(f"{self.number} cancelled ({text})")

            self.app.push_screen(NoteDialog(f"Cancel {self.number}", "Reason (edit, then Enter to cancel the order)",
                                            submit, initial=reason), done)

        self.app.push_screen(PromptList("Cancel reason", CANCEL_REASONS), reason_picked)

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
