"""The EDI side of the order screen: the header line (partner, PO, interchange), the raw view (`w`: the
message's segments as they arrived, and when each acknowledgment went out), and F4's mapping of an
unknown partner item code to one of our SKUs (db/service/edi_orders.py saves it to the partner's
cross-reference and re-evaluates the order).

Kept out of tui/screens/order.py so that screen only binds the keys and calls these.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from core.models import Event
from core.plain_text import printable
from db.service import Desk
from tui.plain import plain, styled
from tui.widgets.form_dialog import Field, FormDialog

if TYPE_CHECKING:  # the EDI service (and the EDI parsers under it, ~2.6 MB) loads for an EDI order only
    from db.service.edi_orders import EdiOrderInfo


def edi_info(desk: Desk, number: str) -> EdiOrderInfo | None:
    return desk.edi_orders.info(number)


def edi_header(info: EdiOrderInfo | None):  # noqa: ANN201 - Content, or None
    """One header line: who sent it and under which references; how many codes still need a SKU."""
    if info is None:
        return None
    unknown = f"   [b $warning]{len(info.unknown)} unknown item code(s): F4 maps[/]" if info.unknown else ""
    return styled("EDI from [b]$partner[/]   PO [b]$po[/]   interchange $ic (message $msg)   w: raw" + unknown,
                  partner=info.partner, po=info.po_number, ic=info.interchange, msg=info.message)


def ack_events(info: EdiOrderInfo | None) -> list[Event]:
    """The interchange's acknowledgments as history rows beside the order's own events (the 855 /
    ORDRSP is an order event already; the 997 / CONTRL belongs to the interchange)."""
    if info is None:
        return []
    return [Event(id=0, at=a.at, actor="system", entity="edi_interchange", entity_id=None, ref=info.interchange,
                  action="edi_ack_sent", data={"document": a.document, "control": a.control, "file": a.file})
            for a in info.acks if a.document in ("997", "CONTRL") and a.state == "sent"]


class RawView(ModalScreen[None]):
    """The message's original segments, one a line, and the acknowledgments sent for it."""

    BINDINGS: ClassVar = [Binding("escape,w,q", "dismiss", "Close", id="edi-raw.close")]
    DEFAULT_CSS = """
RawView { align: center middle; }
RawView #edi-raw { width: 90%; height: 80%; border: thick $primary; background: $surface; padding: 0 1; }
"""

    def __init__(self, info: EdiOrderInfo) -> None:
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        i = self.info
        with VerticalScroll(id="edi-raw"):
            yield Label(plain(f"{i.standard.upper()} message {i.message} of interchange {i.interchange} "
                              f"from {i.partner} · PO {i.po_number} · escape closes"))
            # one segment a line: a line break inside a segment is shown as its escape, never as a new
            # line that would read as a segment of its own (a forged PO1)
            yield Static(plain("\n".join(printable(seg, multiline=False) for seg in i.raw)), id="edi-raw-segments")
            sent = [f"{a.at:%Y-%m-%d %H:%M:%S} UTC  {a.document} {a.control}  {a.file}" for a in i.acks]
            yield Label(plain("Acknowledgments sent:\n" + ("\n".join(sent) if sent else "none yet")),
                        id="edi-raw-acks")


def map_item_dialog(desk: Desk, number: str, info: EdiOrderInfo, token: str | None) -> FormDialog | None:
    """F4: which unknown code (QUALIFIER:CODE, F4 lists this order's) is which SKU (F4 lists products)."""
    if not info.unknown:
        return None
    codes = [(f"{q}:{c}", u["reason"]) for u in info.unknown for q, c in u["codes"][:1]]

    def products() -> list[tuple[str, str]]:
        return [(p.sku, p.description) for p in desk.catalog.products() if p.active]

    def submit(values: dict[str, str]) -> str:
        from core.errors import ValidationError

        qual, sep, code = values["code"].strip().partition(":")
        if not sep or not code:
            raise ValidationError("give the partner's code as QUALIFIER:CODE (F4 lists them)", field="code")
        n = desk.edi_orders.map_item(number, qual.strip(), code.strip(), values["sku"], token=token)
        return f"{code} ({qual}) is {values['sku'].strip().upper()} for {info.partner} from now on; {n} line(s) added"

    return FormDialog(f"Map a partner item code of {number}", [
        Field("code", "Partner code", "QUALIFIER:CODE", choices=lambda: codes, value=codes[0][0]),
        Field("sku", "Our SKU", "the product it is", choices=products),
    ], submit)
