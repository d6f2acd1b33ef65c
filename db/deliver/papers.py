"""The senders of the papers (db.papers_out writes their deliveries): `file` to the outbox folder, `mail`
through the rules' SMTP server.

Both render the paper from the order as it is when sent (after release its lines and header are
fixed), the acknowledgment dated by the delivery's `created_at` (when the order was accepted).

`file`: written through the output guard (db.outputs): never over the database, its companions or a
file that is not an earlier paper of the same kind; atomically (temp file and rename), so a folder
watcher never sees half a paper. A folder that does not exist is a retried failure (create it and the
paper arrives), not a folder made on a typo.

`mail`: smtplib, STARTTLS when the rules say so, a login when a user is set. The password is read
once when the worker starts and lives only in memory: never logged, never in an error.
A 5xx answer to the recipient or the message is permanent (failed at once); a server that is down,
slow or refuses the login is retried.
"""
from __future__ import annotations

import os
import smtplib
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from core.delivery import PAPERS, paper_file_name
from core.errors import OrderqError, RulesError
from db.deliver import SendContext, Sender, SendFailed, register
from db.deliver.folder_write import need_folder, write_guarded

if TYPE_CHECKING:
    from core.models import Order
    from db.outbox import Delivery


def _order(ctx: SendContext, number: str) -> Order:
    from db.service import Desk

    try:
        return Desk.operator(ctx.store, "deliver").orders.get(number)
    except OrderqError as e:
        raise SendFailed(f"cannot read order {number}: {e.message}", permanent=True) from None


def _what(d: Delivery) -> str:
    return PAPERS.get(d.payload.get("paper", ""), "paper")


# ---- file ---------------------------------------------------------------------------------------
def send_file(ctx: SendContext, d: Delivery) -> None:
    from core.papers import HTML_MARKER, ack_html, ack_text, pick_html, pick_text

    folder = Path(d.target)
    need_folder(folder, "outbox folder")
    paper, fmt = d.payload.get("paper"), d.payload.get("format", "html")
    if paper not in PAPERS:
        raise SendFailed(f"unknown paper {paper!r}", permanent=True)
    o = _order(ctx, d.payload["number"])
    try:
        name = paper_file_name(o.number, paper, fmt)
    except ValueError as e:
        raise SendFailed(str(e), permanent=True) from None
    if fmt == "html":
        text, marker = (ack_html(o, d.created_at) if paper == "ack" else pick_html(o)), HTML_MARKER
    else:
        text = ack_text(o, d.created_at) if paper == "ack" else pick_text(o)
        marker = text.split("  ", 1)[0]  # "ORDER ACKNOWLEDGMENT" / "PICK TICKET": an earlier paper's start
    write_guarded(ctx, folder / name, text, flag="papers.outbox", marker=marker, what="paper")


register(Sender(kind="file", send=send_file, what=_what))


# ---- mail ---------------------------------------------------------------------------------------
def read_password(ctx: SendContext) -> str | None:
    """The SMTP password, from the rules' password_file or password_env; a missing one stops the worker
    with one line naming the key (never the value)."""
    smtp = ctx.store.rules.smtp
    if not (smtp.enabled and smtp.user):
        return None
    if smtp.password_file:
        try:
            return Path(smtp.password_file).read_text(encoding="utf-8").strip("\r\n")
        except OSError as e:
            raise RulesError(f"rules: bad key 'smtp.password_file': cannot read {smtp.password_file}: "
                             f"{e.strerror or e}", field="smtp.password_file") from None
    value = os.environ.get(smtp.password_env)
    if not value:
        raise RulesError(f"rules: bad key 'smtp.password_env': ${smtp.password_env} is not set",
                         field="smtp.password_env")
    return value


def send_mail(ctx: SendContext, d: Delivery) -> None:
    from core.paper_mail import ack_message, message_id

    smtp = ctx.store.rules.smtp
    if not smtp.enabled:
        raise SendFailed("the rules name no mail server (smtp.host)")
    o = _order(ctx, d.payload["number"])
    msg = ack_message(o, dated=d.created_at, from_address=smtp.from_address, to=d.target,
                      msg_id=message_id(d.id, o.number, smtp.from_address))
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as s:
            if smtp.starttls:
                s.starttls(context=ssl.create_default_context())
            if smtp.user:
                s.login(smtp.user, ctx.prepared.get("mail") or "")
            s.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        codes = [code for code, _ in e.recipients.values()]
        raise SendFailed(f"{where} refused {d.target}: {_answer(next(iter(e.recipients.values())))}",
                         permanent=all(500 <= c < 600 for c in codes)) from None
    except smtplib.SMTPDataError as e:
        raise SendFailed(f"{where} refused the message: {_answer((e.smtp_code, e.smtp_error))}",
                         permanent=500 <= e.smtp_code < 600) from None
    except smtplib.SMTPResponseException as e:
        raise SendFailed(f"{where} answered {_answer((e.smtp_code, e.smtp_error))}") from None
    except (OSError, smtplib.SMTPException) as e:
        raise SendFailed(f"cannot reach the mail server {where}: {e.strerror or e if isinstance(e, OSError) else e}") from None


def _answer(reply: tuple[int, bytes | str]) -> str:
    code, text = reply
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


register(Sender(kind="mail", send=send_mail, what=_what, start=read_password))
