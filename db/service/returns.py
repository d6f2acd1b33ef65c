"""Return (RMA) commands. Each runs in one BEGIN IMMEDIATE transaction together with its event.

`order_lines.qty_returned` counts units *reserved or taken back* by returns: a new return adds its
quantities at once (so two returns can never together exceed what shipped), a rejection gives them
back, and resolving a short receipt gives back the units that never arrived. After resolution it
equals the units actually received back.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationError
from core.permissions import Action
from db.claims import RETURNS
from db.service.context import Context
from db.service.returns_intake import ReturnIntake
from db.service.returns_read import OPEN_STATES, ReturnLineInput
from db.service.returns_receiving import ReturnReceiving
from db.service.returns_resolution import ReturnResolution

__all__ = ["OPEN_STATES", "BatchResult", "ReturnLineInput", "ReturnService"]


@dataclass(frozen=True)
class BatchResult:
    number: str
    ok: bool
    message: str


class ReturnService(ReturnIntake, ReturnReceiving, ReturnResolution):
    """The returns queue's service (`Desk.returns`): reads and helpers in db.service.returns_read,
    the commands by stage in db.service.returns_intake, _receiving and _resolution."""

    QUEUE = RETURNS
    VIEW = Action.RETURN_VIEW
    WORK = Action.RETURN_WORK
    NOT_CLAIMABLE = "{number} is {state}; it is not in the returns queue"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # ---- bulk --------------------------------------------------------------------------
    def bulk(self, action: str, numbers: list[str], tokens: dict[str, str] | None = None) -> list[BatchResult]:
        """Approve, receive (in full) or resolve several returns: each its own transaction and event.

        `tokens`: number → claim token for returns this session holds."""
        tok = (tokens or {}).get
        verbs = {"approve": lambda n: self.approve(n), "receive": lambda n: self.receive(n, token=tok(n)),
                 "resolve": lambda n: self.resolve(n, token=tok(n)), "authorize": lambda n: self.authorize(n, token=tok(n)),
                 "close": lambda n: self.close(n)}
        if action not in verbs:
            raise ValidationError(f"no bulk {action!r} ({', '.join(verbs)})", field="action")
        out = []
        from core.errors import OrderqError

        for n in numbers:
            try:
                d = verbs[action](n)
                msg = f"{d['state']}" + (f", {d['refund_amount']}" if action == "resolve" else "")
                out.append(BatchResult(n, True, msg))
            except OrderqError as e:
                out.append(BatchResult(n, False, e.message))
        return out

