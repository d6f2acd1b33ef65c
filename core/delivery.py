"""The delivery outbox's arithmetic and vocabulary: when to try again, when to give up.

Pure (clock passed in). WHY a schedule and not "retry forever": SPEC §6 wants a receiver that is down
for a while to lose nothing, and one that never comes back to show up as `failed` instead of a backlog
that grows for ever. So a delivery is retried with exponential back-off, capped at `MAX_DELAY`
between tries, for at least `GIVE_UP_AFTER` after it was written; the first failed try after that
marks it failed. A permanent refusal (an SMTP 5xx, a target the output guard refuses) fails at once.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

#: the first retry comes this soon after a failed try; each later one waits twice as long…
FIRST_DELAY = timedelta(seconds=1)
#: …but never longer than this (so a receiver that comes back gets everything within MAX_DELAY)
MAX_DELAY = timedelta(seconds=30)
#: a delivery is retried for at least this long after it was written, then marked failed
GIVE_UP_AFTER = timedelta(hours=24)
#: how long a worker holds a delivery it is trying: longer than any one send may take (SMTP timeouts
#: are 20 s per step); a worker killed mid-send leaves it to another worker once this lapses
LEASE = timedelta(minutes=2)


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try (1, 2, 4, … seconds, capped at MAX_DELAY)."""
    if attempts <= 1:
        return FIRST_DELAY
    exp = min(attempts - 1, 16)  # 2**16 s is far past the cap; keeps the number small
    return min(MAX_DELAY, FIRST_DELAY * (2 ** exp))


def after_failure(*, attempts: int, created_at: datetime, now: datetime,
                  permanent: bool = False) -> tuple[DeliveryState, datetime | None]:
    """The state after a failed try, and when to try next (None once failed)."""
    if permanent or now - created_at >= GIVE_UP_AFTER:
        return DeliveryState.FAILED, None
    return DeliveryState.PENDING, now + retry_delay(attempts)


def short_error(text: str, limit: int = 300) -> str:
    """An error as stored and shown: one line, bounded (a server may answer with a page of text)."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


# ---- the papers, as deliveries (db.papers_out) ----------------------------------------------------

#: paper key (as `orderq order ack` / `order pick-ticket` name them) -> the words people use
PAPERS = {"ack": "acknowledgment", "pick-ticket": "pick ticket"}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def paper_file_name(number: str, paper: str, fmt: str) -> str:
    """The outbox file of one paper: order number and paper kind, e.g. SO-000123.acknowledgment.html.
    An order number that could leave the folder (a slash, a dot-dot) is refused, never written."""
    if not _SAFE_NAME.match(number):
        raise ValueError(f"order number {number!r} cannot name a file")
    return f"{number}.{PAPERS[paper].replace(' ', '-')}.{'html' if fmt == 'html' else 'txt'}"


#: the history event the worker writes on the entity a delivery is about (its data: kind, what, target,
#: outcome, error); one when it is sent, one at its first failed try, one when it is given up
HISTORY_ACTION = "delivery"

#: kind -> (what "sent" reads as, what a failure reads as); kinds not listed read generically
_KIND_WORDS = {
    "mail": ("mailed to {target}", "mail failed"),
    "file": ("written to {target}", "writing the file failed"),
    "webhook": ("sent to {target}", "webhook failed"),
}


def describe(data: dict) -> str:
    """A delivery history event in a rep's words: "acknowledgment mailed to a@b.c", "mail failed: … (will
    retry)", "mail not sent: the order has no contact email"."""
    what = data.get("what") or "message"
    sent, failed = _KIND_WORDS.get(data.get("kind") or "", ("delivered to {target}", "delivery failed"))
    outcome = data.get("outcome")
    if outcome == DeliveryState.SENT:
        return f"{what} {sent.format(target=data.get('target') or '?')}"
    error = data.get("error") or "unknown error"
    if outcome == "skipped":
        return f"{what} not sent: {error}"
    tail = " (will retry)" if outcome == "retrying" else " (given up)"
    return f"{failed}: {error}{tail}"
