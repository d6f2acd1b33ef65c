"""Who is acting, and the permission check every command passes through."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from core.enums import Role
from core.errors import PermissionDenied
from core.permissions import Action, allowed, refusal
from db.dbapi import Connection
from db import event_chain, events
from db.store import Store

log = logging.getLogger("orderq.audit")

#: what someone with shell access to the database file may do without being a user row:
#: they could edit the file anyway, so they are trusted with set-up, never with queue work.
OPERATOR_ACTIONS = frozenset(
    {Action.USERS, Action.PARTNERS, Action.IMPORT, Action.RULES, Action.KPI, Action.EVENTS, Action.ORDER_VIEW, Action.RETURN_VIEW,
     Action.CUSTOMER_EDIT, Action.CUSTOMER_ADDRESS}
)


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role | None  # None: an operator at the shell, not a user row

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


class _NoLongerActive(Exception):
    """Raised inside `Context.write` before the command's body runs; turned into PermissionDenied."""


class Context:
    def __init__(self, store: Store, actor: Actor) -> None:
        self.store = store
        self.actor = actor

    @property
    def rules(self):  # noqa: ANN201 - the Rules model
        return self.store.rules

    def now(self) -> datetime:
        return self.store.now()

    def can(self, action: Action) -> bool:
        if self.actor.role is None:
            return action in OPERATOR_ACTIONS
        return allowed(self.actor.role, action)

    def require(self, action: Action, ref: str | None = None) -> None:
        """Refuse, and log the refusal in the audit log, whichever front end asked."""
        if self.can(action):
            return
        role = self.actor.role.value if self.actor.role else "operator"
        msg = refusal(self.actor.name, self.actor.role, action, ref)
        self._refuse(msg, ref, {"action": action.value, "role": role})

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A command's write transaction, for an actor who is still an active user *inside* it.

        The desk checked the user when it opened, but a session lives on: an admin may disable
        the user meanwhile (SPEC §6 "Users"). Checking here, after BEGIN IMMEDIATE, means a
        command either commits before the disable or is refused after it — never in between.
        An operator at the shell (no user row) is not checked.

        The check is one read together with the audit chain's head (db.event_chain.active_and_head),
        and the transaction then holds that head for its events: from BEGIN on this process holds
        the write lock, and every statement inside it is time no other process can write."""
        try:
            with self.store.write() as c:
                if self.actor.role is None:
                    yield c
                    return
                active, top = event_chain.active_and_head(c, self.actor.name)
                if not active:
                    raise _NoLongerActive
                event_chain.hold(c, top)
                try:
                    yield c
                finally:
                    event_chain.release(c)
        except _NoLongerActive:
            self.refuse_disabled()

    @property
    def checked_user(self) -> str | None:
        """Whose active flag `write` checks inside the transaction: the actor, or None for an operator."""
        return None if self.actor.role is None else self.actor.name

    def refuse_disabled(self) -> NoReturn:
        """The actor was disabled while this session lived: refused, and the refusal logged."""
        self._refuse(f"user {self.actor.name!r} is disabled", None, {"action": "write", "why": "user disabled"})

    def _refuse(self, msg: str, ref: str | None, data: dict[str, Any]) -> NoReturn:
        log.warning("refused: %s", msg)
        try:
            with self.store.write() as c:
                events.append(c, at=self.now(), actor=self.actor.name, entity="permission", entity_id=None,
                              ref=ref, action="refused", data=data)
        except Exception:  # noqa: BLE001 - the refusal itself must still reach the user
            log.exception("could not log a refusal")
        raise PermissionDenied(msg)
