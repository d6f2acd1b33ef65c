"""Senders of the delivery outbox (db.outbox), one per kind, in a registry the worker reads.

WHY a registry: the outbox is generic (papers to a folder, mail, and webhooks to partners added by the
HTTP API), and the worker must not know every kind. A module registers its kind when imported; the
worker imports every module in `SENDER_MODULES`. To add a kind: write `send(ctx, delivery)`, call
`register(Sender(kind=…, send=…, what=…))` at import, and add the module to `SENDER_MODULES`.

A sender raises `SendFailed` (transient: retried with back-off; `permanent=True`: failed at once) or
returns normally (sent). Anything else it raises counts as transient, with its text as the error.
Senders run on the worker's thread with the worker's store (one connection, read-only use).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.outbox import Delivery
    from db.store import Store

#: modules that register senders when imported (the HTTP API's webhooks module goes here too)
SENDER_MODULES = ["db.deliver.papers", "db.deliver.webhook", "db.deliver.edi_file"]


class SendFailed(Exception):
    """A try that did not deliver. `permanent`: retrying cannot help (the server refused the recipient)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass
class SendContext:
    """What a sender may use: the worker's store (rules, clock, database path, a connection for reads)
    and whatever a sender's `start` prepared (a password read once), keyed by kind."""

    store: Store
    prepared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sender:
    kind: str
    send: Callable[[SendContext, "Delivery"], None]
    #: the delivery in words for the history ("acknowledgment", "order.released")
    what: Callable[["Delivery"], str] = lambda d: d.kind
    #: run once when a worker starts: check settings, read secrets; raise an OrderqError (it names the
    #: rules key) to stop the worker with one line, exit 2
    start: Callable[[SendContext], Any] | None = None


_SENDERS: dict[str, Sender] = {}


def register(sender: Sender) -> None:
    _SENDERS[sender.kind] = sender


def senders() -> dict[str, Sender]:
    """Every registered sender, by kind (importing `SENDER_MODULES` first)."""
    for name in SENDER_MODULES:
        importlib.import_module(name)
    return dict(_SENDERS)
