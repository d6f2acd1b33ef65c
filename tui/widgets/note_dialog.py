"""A one-field dialog (a note, a reason) whose refusal shows next to the field.

`NoteDialog(title, prompt, submit=fn, initial="")`: Enter calls `fn(text)`; if it raises an
OrderqError the message appears under the field and the dialog stays open; on success the dialog
closes with the text. Escape closes it with None and nothing is done.
"""
from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from core.errors import OrderqError
from tui.plain import plain
from tui.widgets.answer_keys import AnswerModal, answer_bindings, key_hints


class NoteDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", priority=True)]
    DEFAULT_CSS = """
    NoteDialog { align: center middle; }
    NoteDialog > Vertical { width: 80; height: auto; border: round $accent; background: $surface; padding: 0 1; }
    NoteDialog .dlg-prompt { margin-bottom: 1; }
    NoteDialog .dlg-error { color: $error; display: none; width: 100%; }  /* wraps: a refusal is read whole */
    NoteDialog.-error .dlg-error { display: block; }
    NoteDialog .dlg-keys { color: $text-muted; }
    """

    def __init__(self, title: str, prompt: str, submit: Callable[[str], object] | None = None,
                 initial: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.submit = submit
        self.initial = initial
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.prompt), classes="dlg-prompt")
            yield Input(self.initial, placeholder=self.placeholder, id="dlg-input")
            yield Label("", classes="dlg-error", id="dlg-error")
            yield Label(key_hints("Enter: confirm", "Esc: cancel"), classes="dlg-keys")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = plain(self.title_text, multiline=False)
        self.query_one(Input).focus()

    def show_error(self, message: str | None) -> None:
        self.query_one("#dlg-error", Label).update(plain(f"⚠ {message}" if message else ""))
        self.set_class(bool(message), "-error")

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.show_error(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.submit is not None:
            try:
                self.submit(text)
            except OrderqError as e:
                self.show_error(e.message)
                return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(AnswerModal):
    """A yes/no question: Enter (or y) says yes, Esc (or n) says no."""

    BINDINGS = answer_bindings(("enter,y", "Yes", "confirm.yes"), ("escape,n", "No", "confirm.no"))
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: 64; height: auto; border: round $warning; background: $surface; padding: 0 1; }
    Confirm Label { width: 100%; }
    Confirm .dlg-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, question: str, yes: str = "Enter: yes", no: str = "Esc: no") -> None:
        super().__init__()
        self.question = question
        self.keys_text = key_hints(yes, no)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.question))
            yield Label(self.keys_text, classes="dlg-keys")
