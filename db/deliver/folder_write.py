"""Writing one delivery's text into a folder (the `file` papers, the `edi_file` acknowledgments): one
way for every sender that writes files.

WHY one helper: both senders must pass the name through the output guard (db.outputs) before writing,
turn its refusal into a permanent failure (the file at that name will not go away by retrying) and a
failed write into a retried one. `holds` lets a sender that may run twice (a worker killed between
writing and recording) see that the file is already there, without reading more than the text's own
size from whatever sits at that name (a 4 GB file, a FIFO, a device).
"""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import OrderqError
from db.deliver import SendContext, SendFailed


def need_folder(folder: Path, words: str) -> None:
    """A folder that is missing is a retried failure: create it and the file arrives (never made on a typo)."""
    if not folder.is_dir():
        raise SendFailed(f"{words} {folder} does not exist or is not a folder")


def holds(dest: Path, text: str) -> bool:
    """Whether `dest` is a regular file holding exactly `text` (UTF-8): read only when its size matches."""
    from db.outputs import open_regular

    want = text.encode("utf-8")
    fd = open_regular(dest)
    if fd is None:
        return False
    with os.fdopen(fd, "rb") as fh:
        try:
            return os.fstat(fh.fileno()).st_size == len(want) and fh.read(len(want) + 1) == want
        except OSError:
            return False


def write_guarded(ctx: SendContext, dest: Path, text: str, *, flag: str, what: str,
                  marker: str | None = None) -> None:
    """Write `text` to `dest` through the output guard: a refusal is permanent, a failed write retried.

    `marker`: how an earlier output of this sender begins (such a file may be replaced); `what` names the
    output in the refusal."""
    from db.outputs import guard, write_text

    try:
        real = guard(dest, flag=flag, database=ctx.store.path, marker=marker, what=what)
    except OrderqError as e:
        raise SendFailed(e.message, permanent=True) from None
    try:
        write_text(real, text, flag=flag)
    except OrderqError as e:
        raise SendFailed(e.message) from None
