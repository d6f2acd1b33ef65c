"""A small keyboard form in a modal: fields, enter to the next one and on the last to submit.

`submit(values)` does the work through the service layer and returns the toast text; a refusal
(`OrderqError`) is shown next to the field it names (`field`), or under the form, wrapped to the
form's width, and the form stays open. A field's message goes as soon as that field is edited,
so an error never outlives its cause. A field given `choices` lists them on F4 (`PromptList`);
placeholders are hints in words, never a value that could be mistaken for one typed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from core.errors import OrderqError
from tui.plain import plain
from tui.widgets.input_aids import settle
from tui.widgets.prompt_list import PromptList


@dataclass(frozen=True)
class Field:
    name: str                 # the service's own `field` name, so its refusals land here
    label: str
    hint: str = ""            # the placeholder: words, not a sample value
    choices: Callable[[], Sequence[tuple[str, str]]] | None = None  # F4 list: (value, label)
    value: str = ""           # what the field starts with (a default the rep can take with Enter)


class FormDialog(ModalScreen[str | None]):
    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("f4", "prompt", "List (F4)", id="form.prompt"),
        # a priority binding, so Enter is taken in turn with the key stream: two Enters typed ahead move two
        # fields on (an Input's own Submitted would arrive after the second key went to the same field)
        Binding("enter", "advance", "Next field", id="form.next", show=False, priority=True),
    ]
    DEFAULT_CSS = """
FormDialog {
    align: center middle;
}
FormDialog #form {
    width: 64;
    max-width: 100%;
    height: auto;
    border: thick $primary;
    background: $surface;
    padding: 1 2;
}
FormDialog #form-title {
    text-style: bold;
}
FormDialog .error {
    color: $error;
    width: 100%;
    height: auto;
}
FormDialog .hint {
    color: $text-muted;
    width: 100%;
}
"""

    def __init__(self, title: str, fields: Sequence[Field], submit: Callable[[dict[str, str]], str], *,
                 enter_submits: bool = False) -> None:
        """`enter_submits`: Enter in any field submits (Tab moves on), for a form whose defaults are the
        usual answer, so taking them all is one Enter."""
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.submit = submit
        self.enter_submits = enter_submits

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(plain(self.title_text), id="form-title")
            for f in self.fields:
                yield Label(plain(f.label + ("  (F4 lists them)" if f.choices else "")))
                yield Input(f.value, placeholder=f.hint, id=f"f-{f.name}")
                yield Label("", id=f"e-{f.name}", classes="error")
            yield Label("", id="e-form", classes="error")
            keys = "enter: submit · tab: next field" if self.enter_submits else "enter: next field, then submit"
            yield Label(f"{keys} · escape: cancel", classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "prompt":
            f = self._focused_field()
            return f is not None and f.choices is not None
        return super().check_action(action, parameters)

    def _focused_field(self) -> Field | None:
        focused = self.focused
        if not isinstance(focused, Input) or not focused.id:
            return None
        return next((f for f in self.fields if f"f-{f.name}" == focused.id), None)

    def action_prompt(self) -> None:
        f = self._focused_field()
        if f is None or f.choices is None:
            return
        box = self.query_one(f"#f-{f.name}", Input)
        try:
            items = list(f.choices())
        except OrderqError as e:
            self.show_error(f.name, e.message)
            return

        def picked(value: str | None) -> None:
            if value is not None:
                box.value = value
                box.cursor_position = len(value)
            box.focus()

        self.app.push_screen(PromptList(f.label, items, initial=box.value), picked)

    def show_error(self, field: str | None, message: str) -> None:
        target = f"#e-{field}" if field and self.query(f"#e-{field}") else "#e-form"
        self.query_one(target, Label).update(plain(message))

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        """Editing a field takes back what was said about it (and the form-wide message)."""
        name = (event.input.id or "").removeprefix("f-")
        for target in (f"#e-{name}", "#e-form"):
            for lbl in self.query(target):
                lbl.update("")  # type: ignore[attr-defined]

    async def action_advance(self) -> None:
        focused = self.focused
        if not isinstance(focused, Input):
            return
        await settle(focused)  # the keys typed before this Enter are in the field's value
        inputs = list(self.query(Input))
        idx = inputs.index(focused)
        if idx < len(inputs) - 1 and not self.enter_submits:
            self.set_focus(inputs[idx + 1])
            return
        values = {f.name: self.query_one(f"#f-{f.name}", Input).value for f in self.fields}
        for lbl in self.query(".error"):
            lbl.update("")  # type: ignore[attr-defined]
        try:
            msg = self.submit(values)
        except OrderqError as e:
            self.show_error(e.field, e.message)
            if e.field and self.query(f"#f-{e.field}"):
                self.set_focus(self.query_one(f"#f-{e.field}", Input))
            return
        self.dismiss(msg)

    def action_cancel(self) -> None:
        self.dismiss(None)
