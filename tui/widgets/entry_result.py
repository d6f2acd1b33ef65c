"""The entry screen's answer after a new order is saved: what the service did with it (number, class,
due, holds and why), Enter for the next order, Esc back. A modal of its own so the entry screen's module
holds the form only.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from core.addresses import address_line
from core.labels import hold_label, state_label
from core.models import Order
from core.money import fmt
from core.triage import due_text
from tui.plain import plain
from tui.widgets.answer_keys import AnswerModal, answer_bindings, key_hints


class EntryResult(AnswerModal):
    """What the service did with the new order: number, class, due, holds and why."""

    BINDINGS = answer_bindings(("enter", "New order", "entry-result.again"), ("escape", "Back", "entry-result.back"))
    DEFAULT_CSS = """
    EntryResult { align: center middle; }
    EntryResult > Vertical { width: 84; height: auto; border: round $success; background: $surface; padding: 1 2; }
    EntryResult.-held > Vertical { border: round $warning; }
    EntryResult Label { width: 100%; }
    EntryResult .res-title { text-style: bold; }
    EntryResult .res-hold { color: $warning; text-style: bold; }
    EntryResult .res-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, order: Order, now, cal) -> None:  # noqa: ANN001
        super().__init__()
        self.order = order
        self.now = now
        self.cal = cal  # the desk calendar: the countdown is open time

    def compose(self) -> ComposeResult:
        o = self.order
        with Vertical():
            yield Label(plain(f"{o.number} created for {o.customer.code} {o.customer.name}"), classes="res-title")
            yield Label(plain(f"class {o.priority.value}: {o.priority_source}"))
            yield Label(f"due {o.due_at:%Y-%m-%d %H:%M} UTC ({due_text(o.due_at, self.now, cal=self.cal)})")
            yield Label(f"{len(o.lines)} line{'s' if len(o.lines) != 1 else ''} · total {fmt(o.total)} · {state_label(o.state)}")
            yield Label(plain(f"ship to {address_line(o.ship_to) or '(no address)'}"))
            yield Label(plain(f"PO {o.po_number or '(none)'} · ship by {o.ship_method or '-'}"
                              + (f" · requested {o.requested_date:%Y-%m-%d}" if o.requested_date else "")))
            if o.hold_reason:
                yield Label(plain(f"ON HOLD ({hold_label(o.hold_reason)}): {o.hold_note or ''}"), classes="res-hold")
                if o.hold_reason.value == "credit":
                    yield Label("A supervisor must lift a credit hold.", classes="res-hold")
            if o.queue_reason:
                yield Label(plain(f"queued for a rep: {o.queue_reason}"))
            if o.straight_through:
                yield Label("released straight through (no rep needed)")
            yield Label(key_hints("Enter: next order", "Esc: back"), classes="res-keys")

    def on_mount(self) -> None:
        self.set_class(self.order.hold_reason is not None, "-held")
