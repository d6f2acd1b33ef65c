"""Holding, unholding and cancelling an order from its screen: a reason picked from a list, then a note,
through `desk.orders` with the screen's claim token; a refusal stays in the note dialog, next to the field.

A mixin of OrderScreen (its own module so the screen keeps to its layout and the keys that move an order on).
It uses the screen's `desk`, `number`, `order`, `token`, `_forget_claim`, `_poke` and `reload`.
"""
from __future__ import annotations

from core.enums import OrderState
from tui.widgets.note_dialog import NoteDialog
from tui.widgets.order_reasons import CANCEL_REASONS, HOLD_REASONS
from tui.widgets.prompt_list import PromptList


class HoldCancelKeys:
    def action_hold(self) -> None:
        items = [(r.value, text) for r, text in HOLD_REASONS.items()]

        def reason_picked(reason: str | None) -> None:
            if reason is None:
                return
            token = self.token

            def submit(note: str) -> None:
                self.desk.orders.hold(self.number, reason, note or None, token=token)

            def done(note: str | None) -> None:
                if note is None:
                    return
                self._forget_claim()
                self._poke()
                self.reload()
                self.notify(f"{self.number} on hold ({reason})")

            self.app.push_screen(NoteDialog(f"Hold {self.number}: {reason}", "Note (what are we waiting for?)",
                                            submit, placeholder="optional"), done)

        self.app.push_screen(PromptList("Hold reason", items), reason_picked)

    def action_unhold(self) -> None:
        if self.order.state != OrderState.ON_HOLD:
            self.notify(f"{self.number} is not on hold", severity="warning")
            return

        def submit(note: str) -> None:
            self.desk.orders.unhold(self.number, note)

        def done(note: str | None) -> None:
            if note is None:
                return
            self._poke()
            self.reload()
            self.notify(f"{self.number} is off hold and back in the queue")

        reason = self.order.hold_reason.value if self.order.hold_reason else ""
        self.app.push_screen(NoteDialog(f"Unhold {self.number} ({reason})", "Note (required): why can it go ahead?",
                                        submit, placeholder="required"), done)

    def action_cancel_order(self) -> None:
        def reason_picked(reason: str | None) -> None:
            if reason is None:
                return
            token = self.token

            def submit(text: str) -> None:
                self.desk.orders.cancel(self.number, text, token=token)

            def done(text: str | None) -> None:
                if text is None:
                    return
                self._forget_claim()
                self._poke()
                self.reload()
                self.notify(f"{self.number} cancelled ({text})")

            self.app.push_screen(NoteDialog(f"Cancel {self.number}", "Reason (edit, then Enter to cancel the order)",
                                            submit, initial=reason), done)

        self.app.push_screen(PromptList("Cancel reason", CANCEL_REASONS), reason_picked)
