"""The dialogs of the return screen (tui/screens/return_process.py): the per-line form for receiving
(quantities) and inspecting (grade and disposition, F4 lists), and the resolve confirmation that shows the
computed amount explained line by line. The screen opens them and applies what they return.

They are styled by the returns screens' own stylesheet (tui/screens/returns.tcss), named by the same
path the screens use, so it is read once.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from core.return_labels import DISPOSITION_LABEL, GRADE_LABEL, inspect_default
from tui.plain import plain
from tui.widgets.prompt_list import PromptList

#: the returns screens' stylesheet (tui/screens/returns.tcss), the path they give Textual
RETURNS_TCSS = Path(__file__).parent.parent / "screens" / "returns.tcss"

GRADE_ITEMS = [(g.value, label) for g, label in GRADE_LABEL.items()]
DISPOSITION_ITEMS = [(d.value, label) for d, label in DISPOSITION_LABEL.items()]

class LinesForm(ModalScreen[dict | None]):
    """Per-line inputs for receiving (qty) or inspecting (grade, disposition, with F4 lists)."""

    AUTO_FOCUS = "Input"
    CSS_PATH = RETURNS_TCSS
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
                            grade, disp = inspect_default(ln["reason"])  # follows the reason; blank: choose
                            yield Input(ln["grade"] or grade, placeholder="grade (F4)", id=f"grade-{i}", classes="code")
                            yield Input(ln["disposition"] or disp, placeholder="disposition (F4)", id=f"disp-{i}",
                                        classes="code")
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
                if not g.value.strip():
                    self.show_error(f"line #{i}: choose a grade (F4 lists them)")
                    g.focus()
                    return
                if not d.value.strip():
                    self.show_error(f"line #{i}: choose a disposition (F4 lists them)")
                    d.focus()
                    return
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

    CSS_PATH = RETURNS_TCSS
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
