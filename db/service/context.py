"""Who is acting, and the permission check every command passes through."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from core.enums import Role
from core.errors import PermissionDenied
from core.permissions import Action, allowed, refusal
from db import events
from db.store import Store

log = logging.getLogger("orderq.audit")

#: what someone with shell access to the database file may do without being a user row:
#: they could edit the file anyway, so they are trusted with set-up, never with queue work.
OPERATOR_ACTIONS = frozenset(
    {Action.USERS, Action.IMPORT, Action.RULES, Action.KPI, Action.EVENTS, Action.ORDER_VIEW, Action.RETURN_VIEW}
)


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role | None  # None: an operator at the shell, not a user row

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


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
        log.warning("refused: %s", msg)
        try:
            with self.store.write() as c:
                events.append(c, at=self.now(), actor=self.actor.name, entity="permission", entity_id=None,
                              ref=ref, action="refused", data={"action": action.value, "role": role})
        except Exception:  # noqa: BLE001 - the refusal itself must still reach the user
            log.exception("could not log a refusal")
        raise PermissionDenied(msg)
