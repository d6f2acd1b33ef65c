"""Working one return: authorize, approve, reject, receive (short receipts shown), inspect, resolve, close.

The refund is never typed: the resolve panel shows the amount the policy computes, explained line by line.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from core.enums import Disposition, Grade
from core.errors import OrderqError
from core.permissions import Action
from db.service import Desk
from tui.messages import StoreChanged
from tui.plain import plain
from tui.role_keys import RoleKeys
from tui.screens.returns import app_claims, poke
from tui.widgets.prompt_list import PromptList

GRADE_ITEMS = [(g.value, g.value.replace("_", " ")) for g in Grade]
DISPOSITION_ITEMS = [(d.value, {"restock": "back into stock", "refurbish": "to refurbishment", "scrap": "write off",
                                "return_to_vendor": "back to the supplier"}[d.value]) for d in Disposition]


def done_text(number: str, what: str, state: str) -> str:
    """'RMA-000041 authorized', or 'RMA-000041 approved; now authorized' when the state says more."""
    now = state.replace("_", " ")
    return f"{number} {what}" if now == what else f"{number} {what}; now {now}"


class TextPrompt(ModalScreen[str | None]):
    """One line of text (a rejection reason, a note). Enter submits, escape cancels."""

    CSS_PATH = "returns.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="returns.prompt-cancel")]

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Label(plain(self.title_text), classes="form-title")
            yield Input(placeholder=self.placeholder, id="prompt-text")
            yield Label("", id="form-error", classes="error")
            yield Label("Enter: OK   Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#form-error", Label).update("required")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class LinesForm(ModalScreen[dict | None]):
    """Per-line inputs for receiving (qty) or inspecting (grade, disposition, with F4 lists)."""

    AUTO_FOCUS = "Input"
    CSS_PATH = "returns.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="returns.form-cancel"),
        Binding("f4", "prompt", "List", id="returns.form-prompt"),
        Binding("ctrl+s", "submit", "Save", id="returns.form-save"),
        Binding("enter", "submit", "Save", id="returns.form-enter", show=False),
    ]

    def __init__(self, kind: str, lines: list[dict]) -> None:
        super().__init__()
        self.kind = kind
        self.lines = lines

    def compose(self) -> ComposeResult:
        title = ("Receive: units that arrived per line (a short receipt is allowed)" if self.kind == "receive"
                 else "Inspect: grade and disposition per line (F4 lists the values)")
        with Vertical(classes="form-box"):
            yield Label(title, classes="form-title")
            with VerticalScroll(id="form-lines"):
                for ln in self.lines:
                    i = ln["line"]
                    with Horizontal(classes="form-row"):
                        if self.kind == "receive":
                            yield Label(plain(f"#{i} {ln['order']} {ln['sku']} {ln['description'] or ''} — expected {ln['qty']}"),
                                        classes="form-label")
                            yield Input(str(ln["qty"]), id=f"qty-{i}", classes="qty")
                        else:
                            yield Label(plain(f"#{i} {ln['sku']} {ln['description'] or ''} — received {ln['qty_received']}"),
                                        classes="form-label")
                            yield Input(ln["grade"] or "like_new", id=f"grade-{i}", classes="code")
                            yield Input(ln["disposition"] or "restock", id=f"disp-{i}", classes="code")
            yield Label("", id="form-error", classes="error")
            yield Label("Tab: next field   F4: list   Enter/Ctrl+S: save   Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def action_prompt(self) -> None:
        f = self.focused
        if not isinstance(f, Input) or not f.id or f.id.startswith("qty-"):
            return
        items, title = (GRADE_ITEMS, "Grade") if f.id.startswith("grade-") else (DISPOSITION_ITEMS, "Disposition")

        def put(value: str | None) -> None:
            if value:
                f.value = value
                f.focus()

        self.app.push_screen(PromptList(title, items, ""), put)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        out: dict = {}
        for ln in self.lines:
            i = ln["line"]
            if self.kind == "receive":
                box = self.query_one(f"#qty-{i}", Input)
                v = box.value.strip()
                if not v.isdigit() or int(v) > ln["qty"]:
                    self.show_error(f"line #{i}: received must be a whole number from 0 to {ln['qty']}")
                    box.focus()
                    return
                out[f"#{i}"] = v
            else:
                g = self.query_one(f"#grade-{i}", Input)
                d = self.query_one(f"#disp-{i}", Input)
                if g.value.strip() not in {x for x, _ in GRADE_ITEMS}:
                    self.show_error(f"line #{i}: unknown grade {g.value!r} (F4 lists them)")
                    g.focus()
                    return
                if d.value.strip() not in {x for x, _ in DISPOSITION_ITEMS}:
                    self.show_error(f"line #{i}: unknown disposition {d.value!r} (F4 lists them)")
                    d.focus()
                    return
                out[f"#{i}"] = (g.value.strip(), d.value.strip())
        self.dismiss(out)

    def show_error(self, msg: str) -> None:
        self.query_one("#form-error", Label).update(plain(msg))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmResolve(ModalScreen[bool]):
    """The computed amount, explained line by line; Enter pays it, Esc goes back."""

    CSS_PATH = "returns.tcss"
    BINDINGS = [Binding("enter,y", "ok", "Resolve", id="returns.confirm-ok"),
                Binding("escape,n", "cancel", "Cancel", id="returns.confirm-cancel")]

    def __init__(self, number: str, resolution: str, explain: dict) -> None:
        super().__init__()
        self.number = number
        self.resolution = resolution
        self.explain = explain

    def compose(self) -> ComposeResult:
        word = {"refund": "Refund", "store_credit": "Store credit", "exchange": "Exchange"}[self.resolution]
        with Vertical(classes="form-box"):
            yield Label(plain(f"Resolve {self.number}: {word} {self.explain['total']}"), classes="form-title", id="confirm-title")
            yield Static(plain("\n".join(self.explain["explanation"])), id="confirm-body")
            if self.resolution == "exchange":
                yield Label("A replacement order (P2) goes to the orders queue.", classes="hint")
            yield Label("Enter: resolve   Esc: back", classes="hint")

    def action_ok(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ReturnProcessScreen(RoleKeys, Screen):
    NEEDS = {**{a: Action.RETURN_WORK for a in ("authorize", "reject", "receive", "inspect", "resolve", "close_return",
                                               "give_back")}, "approve": Action.RETURN_APPROVE}
    CSS_PATH = "returns.tcss"
    BINDINGS = [
        Binding("t", "authorize", "Authorize", id="return.authorize"),
        Binding("a", "approve", "Approve", id="return.approve"),
        Binding("x", "reject", "Reject", id="return.reject"),
        Binding("v", "receive", "Receive", id="return.receive"),
        Binding("i", "inspect", "Inspect", id="return.inspect"),
        Binding("s", "resolve", "Resolve", id="return.resolve"),
        Binding("l", "close_return", "Close", id="return.close"),
        Binding("u", "give_back", "Give back", id="return.give-back"),
        Binding("escape", "back", "Back", id="return.back"),
    ]

    def __init__(self, desk: Desk, number: str, token: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.number = number
        self.token = token
        self.data: dict = {}
        self.holder: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="return-title")
        yield Static("", id="return-head")
        yield DataTable(id="return-lines", cursor_type="row")
        yield Static("", id="return-explain")
        yield Label("", id="return-next", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for label in ("#", "order", "sku", "description", "reason", "qty", "received", "grade", "disposition", "refund"):
            t.add_column(label, key=label)
        self.reload()
        t.focus()

    def _tok(self) -> str | None:
        claims = app_claims(self.app)
        tok = claims.token_for(self.number) if claims else None
        return tok or self.token

    def reload(self) -> None:
        try:
            d = self.desk.returns.detail(self.number)
            ex = self.desk.returns.explain(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        self.number = d["number"]
        if self.holder is not None and d["claimed_by"] not in (None, self.desk.actor.name) and d["claimed_by"] != self.holder:
            self.notify(f"{self.number} was just claimed by {d['claimed_by']}", severity="warning")
        self.holder = d["claimed_by"] or ""
        self.data = d
        self.query_one("#return-title", Label).update(plain(
            f"{d['number']}  ·  {d['state'].replace('_', ' ').upper()}  ·  {d['priority']}  ·  "
            f"{d['resolution'].replace('_', ' ')}"))
        head = (f"customer {d['customer']} {d['customer_name']} ({d['tier'].replace('_', ' ')})  ·  orders "
                f"{', '.join(d['orders'])}  ·  requested by {d['requested_by']}")
        if d["claimed_by"]:
            head += f"  ·  claimed by {d['claimed_by']}"
        if d["needs_approval"]:
            head += f"\nneeds approval: {d['needs_approval']}"
            if d["approved_by"]:
                head += f" — approved by {d['approved_by']}"
        if d["rejected_reason"]:
            head += f"\nrejected: {d['rejected_reason']}"
        if d["exchange_order"]:
            head += f"\nreplacement order {d['exchange_order']} (P2) is in the orders queue"
        if d["note"]:
            head += f"\nnote: {d['note']}"
        self.query_one("#return-head", Static).update(plain(head))
        t = self.query_one(DataTable)
        row = t.cursor_row
        t.clear()
        for ln in d["lines"]:
            rec = ln["qty_received"]
            rec_text = Text("" if rec is None else str(rec))
            if rec is not None and rec < ln["qty"]:
                rec_text = Text(f"{rec} SHORT {ln['qty'] - rec}", style="bold yellow")
            t.add_row(*(plain(x or "", multiline=False) for x in (str(ln["line"]), ln["order"], ln["sku"],
                                                                  ln["description"], ln["reason"], str(ln["qty"]))),
                      rec_text, *(plain(x or "", multiline=False) for x in (ln["grade"], ln["disposition"], ln["refund"])))
        if d["lines"]:
            t.move_cursor(row=min(max(row, 0), len(d["lines"]) - 1))
        word = "credit" if d["resolution"] == "store_credit" else "refund"
        if d["refund_final"]:
            title = f"{word} paid {d['refund_amount']}"
        else:
            title = f"{word} {'estimate' if ex['estimate'] else 'to pay'} {ex['total']}"
        self.query_one("#return-explain", Static).update(plain(title + "\n" + "\n".join("  " + x for x in ex["explanation"])))
        from core.returns import NEXT_STEP
        from core.enums import ReturnState

        step = NEXT_STEP.get(ReturnState(d["state"]))
        self.query_one("#return-next", Label).update(f"next: {step}" if step else "done")

    def on_store_changed(self, message: StoreChanged) -> None:
        if any(e.entity == "return" and e.ref == self.number for e in message.events):
            self.reload()

    def _run(self, what: str, fn) -> bool:  # noqa: ANN001
        try:
            fn()
        except OrderqError as e:
            self.notify(e.message, severity="error", title=f"{what} refused")
            return False
        poke(self.app)
        self.reload()
        if self.data.get("state") in ("resolved", "closed", "rejected"):
            claims = app_claims(self.app)
            if claims:
                claims.remove(self.number)
        self.notify(done_text(self.number, what, self.data.get("state", "?")))
        return True

    def action_authorize(self) -> None:
        self._run("authorized", lambda: self.desk.returns.authorize(self.number, token=self._tok()))

    def action_approve(self) -> None:
        self._run("approved", lambda: self.desk.returns.approve(self.number))

    def action_reject(self) -> None:
        def done(reason: str | None) -> None:
            if reason:
                self._run("rejected", lambda: self.desk.returns.reject(self.number, reason, token=self._tok()))

        self.app.push_screen(TextPrompt(f"Reject {self.number}: why?", "reason told to the customer"), done)

    def _lines_form(self, kind: str, lines: list[dict], apply) -> None:  # noqa: ANN001
        form = LinesForm(kind, lines)

        def done(values: dict | None) -> None:
            if values is not None:
                self._run("received" if kind == "receive" else "inspected", lambda: apply(values))

        self.app.push_screen(form, done)

    def action_receive(self) -> None:
        if self.data.get("state") != "authorized":
            self._run("received", lambda: self.desk.returns.receive(self.number, token=self._tok()))
            return
        self._lines_form("receive", self.data["lines"],
                         lambda v: self.desk.returns.receive(self.number, v, token=self._tok()))

    def action_inspect(self) -> None:
        if self.data.get("state") != "received":
            self._run("inspected", lambda: self.desk.returns.inspect(self.number, token=self._tok()))
            return
        lines = [ln for ln in self.data["lines"] if ln["qty_received"]]
        if not lines:
            self._run("inspected", lambda: self.desk.returns.inspect(self.number, {}, token=self._tok()))
            return
        self._lines_form("inspect", lines, lambda v: self.desk.returns.inspect(self.number, v, token=self._tok()))

    def action_resolve(self) -> None:
        if self.data.get("state") != "inspected":
            self._run("resolved", lambda: self.desk.returns.resolve(self.number, token=self._tok()))
            return
        try:
            ex = self.desk.returns.explain(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return

        def done(ok: bool | None) -> None:
            if ok:
                self._run("resolved", lambda: self.desk.returns.resolve(self.number, token=self._tok()))

        self.app.push_screen(ConfirmResolve(self.number, self.data["resolution"], ex), done)

    def action_close_return(self) -> None:
        self._run("closed", lambda: self.desk.returns.close(self.number))

    def action_give_back(self) -> None:
        tok = self._tok()
        if not tok:
            self.notify("you hold no claim on this return")
            return
        try:
            self.desk.returns.unclaim(self.number, tok)
        except OrderqError as e:
            self.notify(e.message, severity="error")
        claims = app_claims(self.app)
        if claims:
            claims.remove(self.number)
        self.token = None
        poke(self.app)
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()
