"""New return, keyboard only: pick a shipped order with F4 (by number or customer), see its lines with the
quantities still returnable, type quantities and reasons (F4 lists reasons), choose a resolution, save.

Enter on the order field adds that order's lines; a second order of the same customer can be added the
same way, so one return may cover several shipped orders.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from core.enums import Resolution, ReturnReason
from core.errors import OrderqError
from core.plain_text import printable
from db.service import Desk
from db.service.returns import ReturnLineInput
from tui.plain import plain
from tui.screens.returns import poke
from tui.widgets.prompt_list import PromptList

REASON_ITEMS = [(r.value, ("our fault: shipping refunded, no fee" if r.fault else
                           "restocking fee if opened" if r.value in ("no_longer_needed", "other") else "no fee")
                 + ("; needs a note" if r == ReturnReason.OTHER else "")) for r in ReturnReason]
RESOLUTION_ITEMS = [("refund", "money back"), ("store_credit", "credit on the account"),
                    ("exchange", "replacement order at P2, no charge")]


class ReturnEntryScreen(Screen):
    CSS_PATH = "returns.tcss"
    BINDINGS = [
        Binding("f4", "prompt", "List (F4)", id="return-entry.prompt"),
        Binding("ctrl+s", "save", "Save", id="return-entry.save"),
        Binding("escape", "back", "Back", id="return-entry.back"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.lines: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Label("New return  ·  F4 lists values  ·  Enter on the order adds its lines  ·  Ctrl+S saves",
                    id="entry-title")
        with Horizontal(classes="field"):
            yield Label("Order (F4)", classes="field-label")
            yield Input(placeholder="SO-000123, or F4 to find by customer", id="order")
        yield Label("", id="order-error", classes="error")
        yield VerticalScroll(id="entry-lines")
        with Horizontal(classes="field"):
            yield Label("Resolution (F4)", classes="field-label")
            yield Input("refund", id="resolution")
        with Horizontal(classes="field"):
            yield Label("Note", classes="field-label")
            yield Input(placeholder="needed for reason 'other'", id="note")
        yield Label("", id="entry-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#order", Input).focus()

    # ---- F4 --------------------------------------------------------------------------
    def action_prompt(self) -> None:
        f = self.focused
        if not isinstance(f, Input) or not f.id:
            return
        if f.id == "order":
            try:
                orders = self.desk.returns.shipped_orders(limit=2000)
            except OrderqError as e:
                self.notify(e.message, severity="error")
                return
            items = [(o["number"], f"{o['customer']} {o['customer_name']} · shipped {(o['shipped_at'] or '')[:16]}"
                      f" · {o['total']}") for o in orders]
            title = "Shipped orders (type a number or a customer)"
        elif f.id.startswith("reason-"):
            items, title = REASON_ITEMS, "Reason"
        elif f.id == "resolution":
            items, title = RESOLUTION_ITEMS, "Resolution"
        else:
            return

        def put(value: str | None) -> None:
            if value:
                f.value = value
                f.focus()
                if f.id == "order":
                    self.call_later(self.add_order, value)

        self.app.push_screen(PromptList(title, items, f.value if f.id != "order" else ""), put)

    # ---- lines -----------------------------------------------------------------------
    async def add_order(self, number: str) -> None:
        err = self.query_one("#order-error", Label)
        number = number.strip().upper()
        if not number:
            return
        if any(ln["order"] == number for ln in self.lines):
            err.update(plain(f"{number} is on this return already"))
            return
        try:
            got = self.desk.returns.returnable(number)
        except OrderqError as e:
            err.update(plain(e.message))
            return
        if self.lines and got and got[0]["customer"] != self.lines[0]["customer"]:
            err.update(plain(f"{number} belongs to {got[0]['customer']}; this return is for {self.lines[0]['customer']}"))
            return
        err.update("")
        box = self.query_one("#entry-lines", VerticalScroll)
        rows = []
        first_new = None
        for ln in got:
            k = len(self.lines)
            self.lines.append(ln)
            row = Horizontal(
                Label(plain(f"{ln['order']} {ln['sku']:<9} {printable(ln['description'], multiline=False)[:22]:<22} "
                            f"shipped {ln['qty_shipped']:>3}, returnable {ln['returnable']:>3}", multiline=False),
                      classes="line-label"),
                Input("0", id=f"qty-{k}", classes="qty", disabled=ln["returnable"] <= 0),
                Input("", placeholder="reason (F4)", id=f"reason-{k}", classes="code", disabled=ln["returnable"] <= 0),
                classes="line-row")
            rows.append(row)
            if first_new is None and ln["returnable"] > 0:
                first_new = k
        await box.mount_all(rows)
        self.query_one("#order", Input).value = ""
        if first_new is not None:
            self.query_one(f"#qty-{first_new}", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "order":
            await self.add_order(event.value)
        elif event.input.id in ("note", "resolution"):
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        err = self.query_one("#entry-error", Label)
        picked: list[int] = []
        reqs: list[ReturnLineInput] = []
        for k, ln in enumerate(self.lines):
            q = self.query_one(f"#qty-{k}", Input).value.strip()
            q = q.lstrip("0") or "0" if q.isdigit() else q
            if q in ("", "0"):
                continue
            picked.append(k)
            reqs.append(ReturnLineInput(order=ln["order"], sku=ln["sku"], qty=q,
                                        reason=self.query_one(f"#reason-{k}", Input).value))
        if not reqs:
            err.update("pick an order (F4) and give a quantity on at least one line")
            return
        res = self.query_one("#resolution", Input).value.strip()
        if res not in {r.value for r in Resolution}:
            err.update(f"resolution must be one of {', '.join(r.value for r in Resolution)} (F4)")
            self.query_one("#resolution", Input).focus()
            return
        try:
            d = self.desk.returns.new(lines=reqs, resolution=res, note=self.query_one("#note", Input).value)
        except OrderqError as e:
            err.update(plain(e.message))
            self._focus_field(e.field, picked)
            return
        poke(self.app)
        msg = f"{d['number']} created: {d['state'].replace('_', ' ')}"
        if d["state"] == "pending_approval":
            msg += f" — {d['needs_approval']}"
        self.notify(msg)
        from tui.screens.return_process import ReturnProcessScreen

        self.app.pop_screen()
        self.app.push_screen(ReturnProcessScreen(self.desk, d["number"]))

    def _focus_field(self, field: str | None, picked: list[int]) -> None:
        if not field:
            return
        parts = field.split(".")
        if parts[0] == "lines" and len(parts) >= 3 and parts[1].isdigit():
            i = int(parts[1]) - 1
            if 0 <= i < len(picked):
                kind = "reason" if parts[2] == "reason" else "qty"
                self.query_one(f"#{kind}-{picked[i]}", Input).focus()
        elif field in ("note", "resolution"):
            self.query_one(f"#{field}", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
