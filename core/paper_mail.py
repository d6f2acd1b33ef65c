"""The acknowledgment as a mail: plain text with the printable HTML page as its alternative.

Pure: an Order and the addresses in, an email.message.EmailMessage out; sending it is db.deliver.papers.
The Message-ID is stable per delivery, so a retry after a lost "250 OK" is recognisable as the same
message (delivery is at least once).
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from core.models import Order
from core.papers import ack_html, ack_text
from core.plain_text import printable


def message_id(delivery_id: int, number: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "orderq.invalid"
    return f"<orderq.{number}.delivery-{delivery_id}@{domain}>"


def ack_message(o: Order, *, dated: datetime, from_address: str, to: str, msg_id: str) -> EmailMessage:
    """The customer's order acknowledgment, dated when the order was accepted."""
    msg = EmailMessage()
    po = f" (your PO {o.po_number})" if o.po_number else ""
    # a header never carries a line break or a terminal control, whatever a PO number holds
    msg["Subject"] = " ".join(printable(f"Order acknowledgment {o.number}{po}").split())
    msg["From"] = from_address
    msg["To"] = to
    msg["Date"] = format_datetime(dated)
    msg["Message-ID"] = msg_id
    msg.set_content(ack_text(o, dated))
    msg.add_alternative(ack_html(o, dated), subtype="html")
    return msg
