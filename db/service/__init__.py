"""The one service layer both front ends use: every command, its validation and its permission check."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from core.enums import Role
from core.rules import Rules
from db.service.catalog import CatalogService
from db.service.context import Actor, Context
from db.service.intake import IntakeService
from db.service.kpi import KpiService
from db.service.orders import OrderService
from db.service.returns import ReturnService
from db.service.sessions import SessionService
from db.service.users import UserService, active_user
from db.store import Clock, Store, system_clock


class Desk:
    """A signed-in user's view of the store. Front ends hold one and call its services."""

    def __init__(self, store: Store, actor: Actor) -> None:
        self.store = store
        self.ctx = Context(store, actor)
        self.orders = OrderService(self.ctx)
        self.users = UserService(self.ctx)
        self.intake = IntakeService(self.ctx)
        self.kpi = KpiService(self.ctx)
        self.returns = ReturnService(self.ctx)
        self.sessions = SessionService(self.ctx)
        self.catalog = CatalogService(self.ctx)

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    @classmethod
    def for_user(cls, store: Store, name: str) -> "Desk":
        user = active_user(store.conn, name)
        return cls(store, Actor(user.name, user.role))

    @classmethod
    def operator(cls, store: Store, name: str = "operator") -> "Desk":
        return cls(store, Actor(name, None))

    @classmethod
    def open(cls, path: str | Path, user: str | None, *, rules: Rules | None = None,
             clock: Clock = system_clock) -> "Desk":
        store = Store.open(path, rules=rules, clock=clock)
        try:
            return cls.for_user(store, user) if user else cls.operator(store)
        except Exception:
            store.close()
            raise

    def now(self) -> datetime:
        return self.store.now()


__all__ = ["Actor", "Context", "Desk", "Role"]
