"""The supervisor's forms on an order: override its class or due time, reassign it, force-release it.

Each is a `FormDialog` whose submit goes through `desk.orders` (which checks the permission and
refuses with the field at fault). The override reads its due time as the CLI's `--due` does
(`core.when.parse_when`: +2h, -30m, an ISO time), and says in the form, not with a CLI flag,
that it needs a class or a due time.
"""
from __future__ import annotations

from core.enums import Priority
from core.errors import ValidationError
from core.when import DUE_AHEAD, parse_when
from db.service import Desk
from tui.widgets.form_dialog import Field, FormDialog

CLASS_CHOICES = [(p.value, f"class {p.value}") for p in Priority]


def override_form(desk: Desk, number: str) -> FormDialog:
    def submit(v: dict[str, str]) -> str:
        klass, due_text, reason = v["priority"].strip(), v["due"].strip(), v["reason"].strip()
        if not klass and not due_text:
            raise ValidationError("give a class, a due time, or both", field="priority")
        due = parse_when(due_text, desk.now(), field="due", ahead=DUE_AHEAD) if due_text else None
        if not reason:
            raise ValidationError("an override needs a reason", field="reason")
        desk.orders.override(number, reason=reason, priority=klass or None, due_at=due)
        got = desk.orders.get(number)
        return f"{number}: class {got.priority.value}, due {got.due_at:%Y-%m-%d %H:%M} UTC"

    return FormDialog(f"Override {number}", [
        Field("priority", "class", "P1 to P4; blank keeps the class", choices=lambda: CLASS_CHOICES),
        Field("due", "due time", "blank follows the class; or +2h, -30m, 2026-12-01T14:00"),
        Field("reason", "reason", "why (kept on the order)"),
    ], submit)


def reassign_form(desk: Desk, number: str) -> FormDialog:
    """Reads the order's version now (may refuse): a rival reassign while the form is open is a conflict."""
    seen = desk.orders.get(number).version

    def submit(v: dict[str, str]) -> str:
        to = v["to"].strip()
        if not to:
            raise ValidationError("name the rep to hand it to (F4 lists them)", field="to")
        got = desk.orders.reassign(number, to, v["reason"].strip() or None, expected_version=seen)
        return f"{got.number} reassigned to {to}"

    return FormDialog(f"Reassign {number}", [
        Field("to", "to rep", "a user name", choices=desk.users.assignable),
        Field("reason", "reason (optional)", ""),
    ], submit)


def force_release_form(desk: Desk, number: str) -> FormDialog:
    def submit(v: dict[str, str]) -> str:
        desk.orders.force_release(number, v["reason"])
        return f"{number}: claim released back to the queue"

    return FormDialog(f"Force-release {number}", [Field("reason", "reason", "why")], submit)
