"""The returns queue: live, triaged like orders (fault reasons and key accounts first), with bulk actions.

Keys: `c` claim next, `enter` open, `n` new return, `space` select (bulk), `a` approve, `v` receive
in full, `s` resolve (each selected return its own transaction; a report lists each outcome),
`p` approvals view (returns waiting for a supervisor), `m` mine only, `escape` back.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static

from core.enums import ReturnReason, Tier
from core.errors import OrderqError
from core.permissions import Action
from core.money import fmt
from core.plain_text import printable
from core.return_labels import reason_label
from core.returns import classify_return
from core.triage import due_text
from db.service import Desk
from db.service.returns import OPEN_STATES, BatchResult
from tui.live import LiveScreen
from tui.messages import StoreChanged, go_back, open_screen
from tui.plain import plain
from tui.role_keys import RoleKeys
from tui.session import claims_of, poke
from tui.widgets.columns import fit_columns, lay_out
from tui.widgets.footer import KeyFooter
from tui.widgets.note_dialog import Confirm

WINDOW = 300  # rows kept in the widget; the queue itself is read as a window in queue order
#: (key, heading, width or 0 to share what is left, right-aligned)
COLUMNS = [("sel", " ", 1, False), ("cls", "cls", 3, False), ("number", "return", 10, False),
           ("state", "state", 16, False), ("customer", "customer", 0, False), ("orders", "orders", 9, False),
           ("reasons", "reasons", 0, False), ("units", "units", 5, False), ("refund", "refund", 10, True),
           ("due", "due", 15, False), ("claimed", "claimed by", 10, False)]
#: given up in this order on a narrow terminal: at 80 columns the return, its customer, reasons,
#: refund and due stay
DROP_FIRST = ("orders", "units", "claimed", "state")


def _when(iso_text: str | None) -> datetime | None:
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")) if iso_text else None


def money(text: str) -> str:
    """A service amount ("1234.50") with thousands separators, as every money figure on screen."""
    return fmt(Decimal(text))


def outcome(action: str, results: list[BatchResult]) -> str:
    """One line for what an action on the list did: one return by number, several as a count."""
    if len(results) == 1:
        r = results[0]
        return f"{action} {r.number}: " + ("done" if r.ok else f"refused: {r.message}")
    ok = sum(r.ok for r in results)
    return f"{action} {len(results)} returns: {ok} done" + (f", {len(results) - ok} refused" if ok < len(results) else "")


class BulkReport(ModalScreen[None]):
    """Per-item outcome of a bulk action."""

    CSS_PATH = "returns.tcss"
    BINDINGS = [Binding("escape,enter", "dismiss_report", "Close", id="returns.report-close")]

    def __init__(self, action: str, results: list[BatchResult]) -> None:
        super().__init__()
        self.action = action
        self.results = results

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-box"):
            yield Label(plain(outcome(self.action, self.results)), id="bulk-title")
            body = Text()
            for r in self.results:
                body.append("✔ " if r.ok else "✘ ", style="green" if r.ok else "bold red")
                body.append(f"{r.number}  ", style="bold")
                body.append(printable(("done: " if r.ok else "refused: ") + r.message, multiline=False) + "\n")
            yield Static(body, id="bulk-body")
            yield Label("Enter or Esc closes", classes="hint")

    def action_dismiss_report(self) -> None:
        self.dismiss(None)


class ReturnsScreen(LiveScreen, RoleKeys, Screen):
    NEEDS = {"claim_next": Action.RETURN_WORK, "new": Action.RETURN_WORK, "toggle_select": Action.RETURN_WORK,
             ("bulk", "approve"): Action.RETURN_APPROVE, ("bulk", "receive"): Action.RETURN_WORK,
             ("bulk", "resolve"): Action.RETURN_WORK, "approvals": Action.RETURN_APPROVE}
    CSS_PATH = "returns.tcss"
    BINDINGS = [
        Binding("c", "claim_next", "Claim next", id="returns.claim-next"),
        Binding("enter", "open", "Open", id="returns.open"),
        Binding("n", "new", "New return", id="returns.new"),
        Binding("space", "toggle_select", "Select", id="returns.select"),
        Binding("a", "bulk('approve')", "Approve", id="returns.approve"),
        Binding("v", "bulk('receive')", "Receive all", id="returns.receive"),
        Binding("s", "bulk('resolve')", "Resolve", id="returns.resolve"),
        Binding("p", "approvals", "Approvals", id="returns.approvals"),
        Binding("m", "mine", "Mine", id="returns.mine"),
        Binding("escape", "back", "Back", id="returns.back"),
    ]

    def __init__(self, desk: Desk, *, approvals: bool = False) -> None:
        super().__init__()
        self.desk = desk
        self.approvals = approvals
        self.mine = False
        self.selected: set[str] = set()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Label("", id="returns-title")
        table = DataTable(id="returns-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="returns-why")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        self._set_columns(self.app.size.width)
        self.reload()
        t.focus()

    def _set_columns(self, width: int) -> bool:
        self._cols = fit_columns(COLUMNS, width - 2, DROP_FIRST, pad=2, min_flex=12, max_flex=40)
        return lay_out(self.query_one(DataTable), self._cols)

    def on_resize(self, _event: object) -> None:
        if self._set_columns(self.size.width):
            self.reload()

    # ---- data ------------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        t = self.query_one(DataTable)
        if not self.rows or t.cursor_row < 0 or t.cursor_row >= len(self.rows):
            return None
        return self.rows[t.cursor_row]["number"]

    def reload(self) -> None:
        keep = self.current
        states = ("pending_approval",) if self.approvals else OPEN_STATES
        try:
            self.rows = self.desk.returns.list(states=states, mine=self.mine, limit=WINDOW)
        except OrderqError as e:
            self.rows = []
            self.notify(e.message, severity="error")
        now = self.desk.now()
        t = self.query_one(DataTable)
        t.clear()
        numbers = {r["number"] for r in self.rows}
        self.selected &= numbers
        for r in self.rows:
            due = _when(r["due_at"])
            late = due is not None and due < now
            units = f"{r['units_received']}/{r['units']}" if r["state"] not in ("requested", "pending_approval",
                                                                                 "authorized") else str(r["units"])
            cells = {
                "sel": Text("●" if r["number"] in self.selected else " "),
                "cls": Text(r["priority"], style="bold red" if r["priority"] == "P1" else ""),
                "number": Text(r["number"]), "state": Text(r["state"].replace("_", " ")),
                "customer": plain(f"{r['customer_name']} ({r['customer']})" if r["customer_name"] else r["customer"],
                                  multiline=False),
                "orders": plain(",".join(r["orders"]), multiline=False),
                "reasons": plain(", ".join(reason_label(x) for x in r["reasons"]), multiline=False,
                                 style="yellow" if r["fault"] else ""),
                "units": Text(units), "refund": Text(money(r["refund_amount"]), justify="right"),
                "due": Text(due_text(due, now, cal=self.desk.store.calendar) if due else "", style="bold red" if late else ""),
                "claimed": plain(r["claimed_by"] or "", multiline=False)}
            t.add_row(*(cells[k] for k, *_ in self._cols), key=r["number"])
        if keep and keep in numbers:
            t.move_cursor(row=[r["number"] for r in self.rows].index(keep))
        self._title()
        self._why()

    def _title(self) -> None:
        view = "Approvals (waiting for a supervisor)" if self.approvals else "Returns queue"
        sel = f"  ·  {len(self.selected)} selected" if self.selected else ""
        self.query_one("#returns-title", Label).update(plain(
            f"{view}{' · mine' if self.mine else ''}  ·  {len(self.rows)} open{sel}  ·  user {self.desk.actor.name}"))

    def _why(self) -> None:
        n = self.current
        r = next((x for x in self.rows if x["number"] == n), None)
        box = self.query_one("#returns-why", Static)
        if r is None:
            box.update("no returns here" if not self.rows else "")
            return
        pos = self.rows.index(r) + 1
        tier = r["tier"].replace("_", " ")
        due = _when(r["due_at"])
        text = (f"#{pos} in the queue: earliest deadline first · class {r['priority']}: {self._class_source(r)} · "
                f"due {due_text(due, self.desk.now(), cal=self.desk.store.calendar) if due else '?'} · tier {tier} · value {money(r['refund_amount'])}")
        if r["needs_approval"]:
            text += f"\nneeds approval: {r['needs_approval']} (requested by {r['requested_by']})"
        box.update(plain(text))

    def _class_source(self, r: dict) -> str:
        """Why the return has its class, in the one wording the policy gives (`classify_return`)."""
        try:
            reasons = [ReturnReason(x) for x in r["reasons"]]
            return classify_return(reasons, Tier(r["tier"]), self.desk.ctx.rules).source
        except (ValueError, OrderqError):
            return "fault reason" if r["fault"] else "no fault"

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._why()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def on_store_changed(self, message: StoreChanged) -> None:
        if any(e.entity == "return" for e in message.events):
            self.live_changed()  # coalesced; under the return being worked, only marked stale (tui.live)

    def live_refresh(self, full: bool) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        """Back from a return (this session's own work changed it): read again, once (LiveScreen's
        own resume handler runs after this one, and would read again for changes while hidden)."""
        self._stale = False
        self.reload()

    # ---- actions ---------------------------------------------------------------------
    def _open(self, number: str, token: str | None) -> None:
        open_screen(self, "return", number, token)

    def action_open(self) -> None:
        n = self.current
        if n is None:
            return
        claims = claims_of(self.app)
        self._open(n, claims.token_for(n) if claims else None)

    def action_claim_next(self) -> None:
        try:
            got = self.desk.returns.claim_next()
        except OrderqError as e:
            self.notify(e.message, severity="error")
            return
        if got is None:
            self.notify("the returns queue is empty")
            return
        claims = claims_of(self.app)
        if claims:
            claims.add("returns", got.number, got.claim_token)
        poke(self.app)
        self._open(got.number, got.claim_token)

    def action_new(self) -> None:
        open_screen(self, "return-entry")

    def action_toggle_select(self) -> None:
        n = self.current
        if n is None:
            return
        self.selected.symmetric_difference_update({n})
        t = self.query_one(DataTable)
        t.update_cell(n, "sel", Text("●" if n in self.selected else " "))  # the mark only: no re-read of the list
        self._title()
        if t.cursor_row < len(self.rows) - 1:
            t.move_cursor(row=t.cursor_row + 1)

    def action_bulk(self, action: str) -> None:
        numbers = [r["number"] for r in self.rows if r["number"] in self.selected] or (
            [self.current] if self.current else [])
        if not numbers:
            return
        if action == "approve":  # money leaves on a supervisor's word: say how much, and ask
            picked = [r for r in self.rows if r["number"] in numbers]
            total = sum((Decimal(r["refund_amount"]) for r in picked), Decimal(0))
            what = (f"{picked[0]['number']} ({picked[0]['customer']} {picked[0]['customer_name'] or ''}".rstrip()
                    + f"), refund {fmt(total)}") if len(picked) == 1 else f"{len(picked)} returns, refunds {fmt(total)} in all"

            def answered(yes: bool | None) -> None:
                if yes:
                    self._apply(action, numbers)

            self.app.push_screen(Confirm(f"Approve {what}?", "Enter: approve"), answered)
            return
        self._apply(action, numbers)

    def _apply(self, action: str, numbers: list[str]) -> None:
        claims = claims_of(self.app)
        tokens = {n: t for n in numbers if claims and (t := claims.token_for(n))}
        results = self.desk.returns.bulk(action, numbers, tokens)
        if claims and action == "resolve":
            for r in results:
                if r.ok:
                    claims.remove(r.number)
        self.selected.clear()
        ok = sum(r.ok for r in results)
        self.notify(outcome(action, results), severity="information" if ok == len(results) else "warning")
        poke(self.app)
        self.reload()
        self.app.push_screen(BulkReport(action, results))

    def action_approvals(self) -> None:
        self.approvals = not self.approvals
        self.selected.clear()
        self.reload()

    def action_mine(self) -> None:
        self.mine = not self.mine
        self.reload()

    def action_back(self) -> None:
        go_back(self)
