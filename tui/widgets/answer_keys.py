"""The key row of a modal that answers yes or no: the two priority bindings that dismiss it with
True or False, and the hint line that names them. Written once for the entry screen's result
(EntryResult) and the yes/no question (Confirm), so their keys behave and read alike."""
from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


def answer_bindings(yes: tuple[str, str, str], no: tuple[str, str, str]) -> list[Binding]:
    """Bindings for `yes` and `no`, each (keys, footer label, keymap id): priority, so an Input or a
    table inside the modal never eats them."""
    return [Binding(keys, f"answer({value})", label, id=binding_id, priority=True)
            for (keys, label, binding_id), value in ((yes, True), (no, False))]


def key_hints(*hints: str) -> str:
    """The hint line under a dialog, e.g. key_hints("Enter: confirm", "Esc: cancel")."""
    return "   ".join(hints)


class AnswerModal(ModalScreen[bool]):
    """A modal whose `answer_bindings` dismiss it with the answer."""

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
