"""The `edi_file` sender: an EDI acknowledgment (997, CONTRL, 855, ORDRSP) into the partner's outbox folder.

WHY a kind of its own and not `file`: `file` renders a paper from the order when sent; an acknowledgment
is fixed when the intake or release commits (its control numbers are allocated in that transaction and
never reused), so the delivery carries the document text and this sender only writes it.

Written through the output guard (db.outputs): atomically (temp name, rename), never over the database
or its companions. A folder that does not exist is a retried failure (create it and the file arrives);
a file of that name already holding this very text counts as sent (at least once: a worker killed after
writing sends again), any other file of that name is a permanent refusal (never replaced, never read
beyond the text's own size: a huge file, a FIFO or a device there is refused, not read).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from db.deliver import SendContext, Sender, SendFailed, register
from db.deliver.folder_write import holds, need_folder, write_guarded

if TYPE_CHECKING:
    from db.outbox import Delivery

KIND = "edi_file"


def send_edi_file(ctx: SendContext, d: Delivery) -> None:
    folder = Path(d.target)
    need_folder(folder, "EDI outbox folder")
    name, text = d.payload.get("name"), d.payload.get("text")
    if not name or text is None or Path(name).name != name:
        raise SendFailed(f"bad acknowledgment delivery (file name {name!r})", permanent=True)
    dest = folder / name
    if holds(dest, text):
        return  # sent before by a worker that died before recording it
    write_guarded(ctx, dest, text, flag="outbox", what="acknowledgment")


def _what(d: Delivery) -> str:
    return f"{d.payload.get('document', 'EDI')} acknowledgment {d.payload.get('control', '')}".strip()


register(Sender(kind=KIND, send=send_edi_file, what=_what))
