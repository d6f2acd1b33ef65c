"""Keyboard-only order entry for phone, fax, email and walk-in orders.

Enter moves to the next field: customer → SKU → qty → discount → the next line's SKU; Enter on a
blank SKU in the last line submits (so does Ctrl+S anywhere). F4 lists customers or SKUs. The
service prices the lines, classifies the order and sets any credit or stock hold; the result
screen says what it did and why. Nothing is written until the whole form is valid.
"""
from __future__ import annotations

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from core.addresses import place
from core.enums import Channel
from core.errors import OrderqError
from core.lookup import resolve
from core.models import Customer
from core.money import fmt
from core.triage import classify, humanize
from db.service import Desk
from db.service.order_header import DuplicatePO
from tui.messages import StoreChanged
from tui.plain import plain, styled
from tui.widgets.entry_result import EntryResult
from tui.widgets.footer import KeyFooter
from tui.widgets.input_aids import CodeSuggester, put, settle
from tui.widgets.lines_grid import LinesGrid
from tui.widgets.note_dialog import Confirm
from tui.widgets.order_header_form import HeaderForm
from tui.widgets.prompt_list import PromptList

#: the channels a rep enters by hand, first = default; online/EDI arrive by import but may be keyed too
ENTRY_CHANNELS = [Channel.PHONE, Channel.FAX, Channel.EMAIL, Channel.WALK_IN, Channel.ONLINE, Channel.EDI]


def customer_choices(customers: list[Customer]) -> list[tuple[str, str]]:
    """F4 and type-ahead rows: name, city and country (two same-named customers told apart), tier."""
    return [(c.code, " · ".join(x for x in (c.name, place(c.city, c.country), c.tier.value.replace("_", " ")) if x))
            for c in customers]


class EntryScreen(Screen):
    CSS_PATH = "entry.tcss"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="entry.submit", priority=True),
        Binding("enter", "advance", "Next field", id="entry.next", show=False, priority=True),
        Binding("f4", "prompt", "List (F4)", id="entry.prompt"),
        Binding("f5", "channel", "Channel", id="entry.channel"),
        Binding("f6", "order_type", "Type", id="entry.type"),
        Binding("escape", "back", "Back", id="entry.back"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.customers = desk.catalog.customers()
        self.customer_by_code = {c.code: c for c in self.customers}
        self.customer_items = customer_choices(self.customers)
        self.products = desk.catalog.products()
        self.types = list(desk.ctx.rules.request_types)
        self.channel = ENTRY_CHANNELS[0]
        self.order_type = "standard" if "standard" in self.types else self.types[0]
        self.customer: Customer | None = None
        self.submitting = False

    def compose(self) -> ComposeResult:
        with Vertical(id="entry-form"):
            yield Label("New order", id="entry-title")
            with Horizontal(id="entry-customer-row"):
                yield Label("Customer ", classes="entry-label")
                yield Input(placeholder="code or name (F4 lists)", id="entry-customer", compact=True,
                            suggester=CodeSuggester([c.code for c in self.customers]), select_on_focus=False)
                yield Label("", id="entry-customer-info")
            yield Label("", id="entry-customer-error", classes="entry-error")
            yield HeaderForm(list(self.desk.ctx.rules.ship_methods), id="entry-header")
            yield Static("", id="entry-meta")
            yield LinesGrid(self.products, id="entry-lines")
            yield Static("", id="entry-totals")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = f"{self.desk.actor.name}"
        self.customer_input.focus()
        self.refresh_meta()
        self.refresh_totals()

    # ---- parts -------------------------------------------------------------------------
    @property
    def customer_input(self) -> Input:
        return self.query_one("#entry-customer", Input)

    @property
    def header(self) -> HeaderForm:
        return self.query_one(HeaderForm)

    @property
    def grid(self) -> LinesGrid:
        return self.query_one(LinesGrid)

    def set_customer_error(self, message: str | None) -> None:
        err = self.query_one("#entry-customer-error", Label)
        err.update(plain(f"⚠ {message}" if message else ""))
        err.display = bool(message)
        self.customer_input.set_class(bool(message), "-invalid")

    def set_customer(self, code: str | None) -> Customer | None:
        cust = self.customer_by_code.get(code) if code else None
        self.customer = cust
        info = self.query_one("#entry-customer-info", Label)
        if cust is None:
            put(info, "")
        else:
            if self.customer_input.value != cust.code:
                with self.customer_input.prevent(Input.Changed):
                    self.customer_input.value = cust.code
            where = place(cust.city, cust.country)
            put(info, f"{cust.name}" + (f" · {where}" if where else "") + f" · {cust.tier.value.replace('_', ' ')}")
            self.set_customer_error(None)
        if self.header.customer_code != (cust.code if cust else None):
            if cust is None:
                self.header.set_customer(None, [], [])
            else:
                self.header.set_customer(cust, self.desk.customers.addresses(cust.code),
                                         self.desk.customers.recent_orders(cust.code, 3),
                                         bill_to=self.desk.customers.addresses(cust.code, "bill_to"),
                                         contacts=self.desk.customers.show(cust.code)["contacts"])
        self.refresh_meta()
        self.refresh_totals()
        return cust

    def refresh_meta(self) -> None:
        text = "Channel [b]$channel[/b] (F5)   Type [b]$type[/b] (F6)"
        values = {"channel": self.channel.value, "type": self.order_type}
        if self.customer is not None:
            try:
                cls = classify(self.desk.ctx.rules, self.order_type, self.customer.tier)
                text += "   → class $klass ($source), SLA $sla"
                values.update(klass=cls.priority.value, source=cls.source,
                              sla=humanize(self.desk.ctx.rules.sla(cls.priority)))
            except OrderqError:
                pass
        put(self.query_one("#entry-meta", Static), styled(text, **values))

    def refresh_totals(self) -> None:
        grid = self.grid
        filled = grid.filled_rows()
        total = grid.total()
        text = f"{len(filled)} line{'s' if len(filled) != 1 else ''} · total {fmt(total)}"
        if self.customer is not None:
            after = self.customer.open_balance + total
            if after > self.customer.credit_limit:
                text += (f"   [b $warning]over credit limit by {fmt(after - self.customer.credit_limit)}:"
                         " it will go on a credit hold[/]")
        text += "   ·   Enter next field · Enter on blank SKU or Ctrl+S submits"
        put(self.query_one("#entry-totals", Static), styled(text))  # numbers and house words only

    # ---- customer field ----------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.customer_input:
            exact = self.customer_by_code.get(event.input.value.strip().upper())
            if exact is not None:
                self.set_customer(exact.code)
            elif self.customer is not None:
                self.set_customer(None)
            self.set_customer_error(None)

    async def action_advance(self) -> None:
        """Enter in the customer field and the header (the lines grid has its own): in turn with the key stream."""
        if self.header.owns(self.focused):
            await settle(self.focused)  # type: ignore[arg-type]
            if self.focused is self.header.ship_input and self.header.wants_one_off():
                self.header.prompt_one_off()
                return
            nxt = self.header.next_after(self.focused)  # type: ignore[arg-type]
            if nxt is not None:
                self.set_focus(nxt)
            else:
                self.grid.focus_first()
            return
        if self.focused is not self.customer_input:
            raise SkipAction()  # the grid's own Enter (or the focused widget's) takes it
        await settle(self.customer_input)
        text = self.customer_input.value.strip()
        if not text:
            self.set_customer_error("customer is empty (type a code or name, F4 lists them)")
            return
        if self.set_customer(resolve(text, self.customer_items)) is not None:
            self.set_focus(self.header.ship_input)
        else:
            self.prompt_customer(text)

    def prompt_customer(self, initial: str) -> None:
        def picked(code: str | None) -> None:
            if code is None:
                self.set_focus(self.customer_input)
                return
            self.set_customer(code)
            self.set_focus(self.header.ship_input)

        self.app.push_screen(PromptList("Customer", self.customer_items, initial), picked)

    def action_prompt(self) -> None:
        if self.focused is self.customer_input:
            text = self.customer_input.value.strip()
            self.prompt_customer("" if self.customer else text)
        elif self.header.prompt_for(self.focused):
            pass
        else:
            self.grid.action_prompt_sku()

    def action_channel(self) -> None:
        i = ENTRY_CHANNELS.index(self.channel)
        self.channel = ENTRY_CHANNELS[(i + 1) % len(ENTRY_CHANNELS)]
        self.refresh_meta()

    def action_order_type(self) -> None:
        i = self.types.index(self.order_type)
        self.order_type = self.types[(i + 1) % len(self.types)]
        self.refresh_meta()

    @property
    def dirty(self) -> bool:
        return bool(self.customer_input.value.strip() or self.grid.filled_rows() or self.header.dirty)

    def action_back(self) -> None:
        """Esc leaves; with something typed it asks first, so one stray key never loses an order."""
        if not self.dirty:
            self._leave()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._leave()

        self.app.push_screen(Confirm("Discard this order? Nothing has been saved.", "Enter: discard",
                                     "Esc: keep typing"), answered)

    def _leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    # ---- live --------------------------------------------------------------------------
    def on_store_changed(self, message: StoreChanged) -> None:
        deltas: dict[str, int] = {}
        for e in message.events:
            for sku, d in (e.data.get("stock") or {}).items():
                deltas[sku] = deltas.get(sku, 0) + int(d)
        if deltas:
            self.grid.apply_stock(deltas)

    # ---- the lines ---------------------------------------------------------------------
    def on_lines_grid_changed(self, _event: LinesGrid.Changed) -> None:
        self.refresh_totals()

    def on_lines_grid_done(self, _event: LinesGrid.Done) -> None:
        self.action_submit()

    # ---- submit ------------------------------------------------------------------------
    def validate_form(self):  # noqa: ANN201 - the first bad widget or None
        first = None
        text = self.customer_input.value.strip()
        if self.customer is None or text.upper() != self.customer.code:
            self.customer = None
            code = resolve(text, self.customer_items)
            if code is None or self.set_customer(code) is None:
                self.set_customer_error(f"unknown customer {text!r} (F4 lists them)" if text else "customer is empty")
                first = self.customer_input
        bad_header = None
        try:
            self.header.header_input()  # the picks typed as numbers (ship-to, bill-to, contact) read
        except OrderqError as e:
            bad_header = self.header.show_error(e.field or "ship_to", e.message)
        bad_line = self.grid.validate()
        return first or bad_header or bad_line

    def action_submit(self, duplicate_po_ok: bool = False) -> None:
        if self.submitting:
            return
        bad = self.validate_form()
        if bad is not None:
            bad.focus()
            self.app.bell()
            return
        assert self.customer is not None
        self.submitting = True
        try:
            order = self.desk.orders.create(customer=self.customer.code, channel=self.channel.value,
                                            type=self.order_type, lines=self.grid.line_inputs(),
                                            header=self.header.header_input(duplicate_po_ok=duplicate_po_ok))
        except DuplicatePO as e:
            self.confirm_duplicate_po(e)
            return
        except OrderqError as e:
            self.show_refusal(e)
            return
        finally:
            self.submitting = False
        poke = getattr(self.app, "feed_poke", None)
        if poke:
            poke()
        self.notify(f"{order.number} created" + (f", on {order.hold_reason.value} hold" if order.hold_reason else ""))
        self.app.push_screen(EntryResult(order, self.desk.now(), self.desk.store.calendar), self.after_result)

    def confirm_duplicate_po(self, e: DuplicatePO) -> None:
        """The same PO came from this customer before: the rep says whether this is a new order."""
        self.header.show_error("po_number", e.message.split(";")[0])

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_submit(duplicate_po_ok=True)
            else:
                self.set_focus(self.header.field("hdr-po"))

        self.app.push_screen(Confirm(f"{e.message.split(';')[0]}. Enter it as a new order?", "Enter: yes, a new order",
                                     "Esc: correct the PO"), answered)

    def show_refusal(self, e: OrderqError) -> None:
        field = e.field or ""
        # the service names no keys (the CLI has none); here F4 is the way to the valid codes
        hint = " (F4 lists them)" if "unknown" in e.message and (field == "customer" or field.endswith(".sku")) else ""
        if field == "customer":
            self.set_customer_error(e.message + hint)
            self.customer_input.focus()
        elif (w := self.header.show_error(field, e.message)) is not None or field in ("bill_to", "contact"):
            if w is not None:
                w.focus()
        elif field.startswith("lines"):
            w = self.grid.show_error(field, e.message + hint)
            if w is not None:
                w.focus()
        else:
            self.notify(e.message, severity="error", title="Not saved")

    async def after_result(self, again: bool | None) -> None:
        if again:
            await self.reset()
        else:
            self._leave()

    async def reset(self) -> None:
        old = self.grid
        new = LinesGrid(self.products, id="entry-lines")
        await old.remove()
        await self.query_one("#entry-form").mount(new, before=self.query_one("#entry-totals"))
        with self.customer_input.prevent(Input.Changed):
            self.customer_input.value = ""
        self.header.reset()
        self.set_customer(None)
        self.set_customer_error(None)
        self.channel = ENTRY_CHANNELS[0]
        self.order_type = "standard" if "standard" in self.types else self.types[0]
        self.refresh_meta()
        self.refresh_totals()
        self.customer_input.focus()
