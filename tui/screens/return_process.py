"""Working one return: authorize, approve, reject, receive (short receipts shown), inspect, resolve, close.

The refund is never typed: the resolve panel shows the amount the policy computes, explained line by line.
"""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from core.enums import ReturnState
from core.errors import OrderqError
from core.models import Event
from core.money import fmt
from core.permissions import Action
from core.return_labels import reason_label
from core.returns import NEXT_STEP, guard_approver
from db.service import Desk
from tui.messages import StoreChanged
from tui.plain import plain
from tui.role_keys import RoleKeys
from tui.session import claims_of, poke
from tui.widgets.columns import fit_columns, lay_out
from tui.widgets.footer import KeyFooter
from tui.widgets.history_table import HistoryTable
from tui.widgets.note_dialog import Confirm, NoteDialog
from tui.widgets.return_dialogs import ConfirmResolve, LinesForm

#: the lines table (key, heading, width or 0 to share what is left, right-aligned); at 80 columns
#: the order and SKU give way (the header names the orders), grade and disposition show as one cell
LINE_COLUMNS = [("#", "#", 2, False), ("order", "order", 9, False), ("sku", "sku", 9, False),
                ("description", "description", 0, False), ("reason", "reason", 0, False), ("qty", "qty", 4, True),
                ("received", "received", 8, False), ("inspected", "grade / disposition", 19, False),
                ("refund", "refund", 10, True)]
LINE_DROP_FIRST = ("order", "sku")
VERBS = {"created": "asked for the return", "claim": "claimed it", "unclaim": "gave it back to the queue",
         "lease_expired": "ended a lapsed claim", "force_release": "force-released the claim",
         "authorize": "authorized it", "approve": "approved it", "reject": "rejected it", "receive": "received it",
         "inspect": "inspected it", "resolve": "resolved it", "close": "closed it", "refused": "was refused"}


def done_text(number: str, what: str, state: str) -> str:
    """'RMA-000041 authorized', or 'RMA-000041 approved; now authorized' when the state says more."""
    now = state.replace("_", " ")
    return f"{number} {what}" if now == what else f"{number} {what}; now {now}"


def describe(e: Event) -> str:
    """One return event in a clerk's words."""
    d = e.data or {}
    text = VERBS.get(e.action, e.action.replace("_", " "))
    if e.action == "reject" and d.get("reason"):
        text += f" ({d['reason']})"
    elif e.action == "approve" and d.get("why"):
        text += f" ({d['why']})"
    elif e.action == "resolve" and d.get("refund"):
        text += f": {str(d.get('resolution', '')).replace('_', ' ')} {fmt(Decimal(str(d['refund'])))}"
    elif e.action == "refused" and d.get("why"):
        text += f": {d['why']}"
    if d.get("note") and e.action != "reject":
        text += f" — {d['note']}"
    return text


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
        Binding("h", "history", "History", id="return.history", tooltip="Show or hide the history"),
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
        yield HistoryTable(id="return-history")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        self._set_columns(self.app.size.width)
        self.query_one("#return-history").display = False
        self.reload()
        t.focus()

    def _set_columns(self, width: int) -> bool:
        self._cols = fit_columns(LINE_COLUMNS, width - 2, LINE_DROP_FIRST, pad=2, min_flex=10, max_flex=30)
        return lay_out(self.query_one("#return-lines", DataTable), self._cols)

    def on_resize(self, _event: object) -> None:
        if self._set_columns(self.size.width) and self.data:
            self.reload()

    def _tok(self) -> str | None:
        claims = claims_of(self.app)
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
            inspected = " / ".join(x.replace("_", " ") for x in (ln["grade"], ln["disposition"]) if x)
            cells = {"#": str(ln["line"]), "order": ln["order"], "sku": ln["sku"], "description": ln["description"],
                     "reason": reason_label(ln["reason"]), "qty": Text(str(ln["qty"]), justify="right"),
                     "received": rec_text, "inspected": inspected,
                     "refund": Text(fmt(Decimal(ln["refund"])) if ln["refund"] else "", justify="right")}
            t.add_row(*(c if isinstance(c, Text) else plain(c or "", multiline=False)
                        for c in (cells[k] for k, *_ in self._cols)))
        if d["lines"]:
            t.move_cursor(row=min(max(row, 0), len(d["lines"]) - 1))
        word = "credit" if d["resolution"] == "store_credit" else "refund"
        if d["refund_final"]:
            title = f"{word} paid {d['refund_amount']}"
        else:
            title = f"{word} {'estimate' if ex['estimate'] else 'to pay'} {ex['total']}"
        self.query_one("#return-explain", Static).update(plain(title + "\n" + "\n".join("  " + x for x in ex["explanation"])))
        step = NEXT_STEP.get(ReturnState(d["state"]))
        self.query_one("#return-next", Label).update(f"next: {step}" if step else "done")
        if self.query_one("#return-history").display:
            self.show_history()

    def show_history(self) -> None:
        try:
            events = self.desk.returns.history(self.number)
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        self.query_one("#return-history", HistoryTable).show(events, describe)

    def action_history(self) -> None:
        hist = self.query_one("#return-history", HistoryTable)
        hist.display = not hist.display
        if hist.display:
            self.show_history()

    def on_store_changed(self, message: StoreChanged) -> None:
        if any(e.entity == "return" and e.ref == self.number for e in message.events):
            self.reload()

    def _run(self, what: str, fn) -> bool:  # noqa: ANN001
        try:
            fn()
        except OrderqError as e:
            self.notify(e.message, severity="error", title=f"{what} refused")
            return False
        self._done(what)
        return True

    def _done(self, what: str) -> None:
        """After a step went through: everyone refreshes, a finished return's claim is let go, and it says so."""
        poke(self.app)
        self.reload()
        if self.data.get("state") in ("resolved", "closed", "rejected"):
            claims = claims_of(self.app)
            if claims:
                claims.remove(self.number)
        self.notify(done_text(self.number, what, self.data.get("state", "?")))

    def action_authorize(self) -> None:
        self._run("authorized", lambda: self.desk.returns.authorize(self.number, token=self._tok()))

    def action_approve(self) -> None:
        """A supervisor's word releases money: the amount is shown and confirmed first."""
        d = self.data
        if d.get("state") != ReturnState.PENDING_APPROVAL.value or not self._may_approve():
            self._run("approved", lambda: self.desk.returns.approve(self.number))  # refused, saying why
            return
        try:
            amount = self.desk.returns.explain(self.number)["total"]
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        word = "store credit" if d["resolution"] == "store_credit" else d["resolution"].replace("_", " ")
        question = (f"Approve {self.number} for {d['customer']} {d['customer_name']}: {word} {fmt(Decimal(str(amount)))}?"
                    f"\nNeeds approval: {d['needs_approval']}")

        def answered(yes: bool | None) -> None:
            if yes:
                self._run("approved", lambda: self.desk.returns.approve(self.number))

        self.app.push_screen(Confirm(question, "Enter: approve"), answered)

    def _may_approve(self) -> bool:
        """The service decides; asked first only so a refusal is not preceded by a question."""
        if not self.desk.ctx.can(Action.RETURN_APPROVE):
            return False
        try:
            guard_approver(self.data.get("requested_by") or "", self.desk.actor.name)
        except OrderqError:
            return False
        return True

    def action_reject(self) -> None:
        def done(reason: str | None) -> None:
            if reason is not None:
                self._done("rejected")

        self.app.push_screen(NoteDialog(f"Reject {self.number}", "Why? (told to the customer; required)",
                                        submit=lambda text: self.desk.returns.reject(self.number, text,
                                                                                     token=self._tok()),
                                        placeholder="reason told to the customer"), done)

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
        claims = claims_of(self.app)
        if claims:
            claims.remove(self.number)
        self.token = None
        poke(self.app)
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()
