"""The one service layer both front ends use: every command, its validation and its permission check.

A `Desk` builds each service the first time a front end uses it (`ServiceSlot`), so opening the
TUI's queue imports the order service and not, say, the importer or the KPI queries.
"""
from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.enums import Role
from db.service.context import Actor, Context
from db.service.identity import active_user
from db.store import Clock, Store, system_clock

if TYPE_CHECKING:
    from core.rules import Rules


class ServiceSlot:
    """A Desk attribute holding one service, imported and built on first use, then kept on the desk."""

    def __init__(self, module: str, cls: str) -> None:
        self.module = module
        self.cls = cls
        self.attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = name

    def __get__(self, desk: "Desk | None", owner: type | None = None) -> Any:
        if desk is None:
            return self
        service = getattr(importlib.import_module(self.module), self.cls)(desk.ctx)
        desk.__dict__[self.attr] = service  # found before this (non-data) descriptor from now on
        return service


class Desk:
    """A signed-in user's view of the store. Front ends hold one and call its services."""

    orders = ServiceSlot("db.service.orders", "OrderService")
    users = ServiceSlot("db.service.users", "UserService")
    intake = ServiceSlot("db.service.intake", "IntakeService")
    kpi = ServiceSlot("db.service.kpi", "KpiService")
    returns = ServiceSlot("db.service.returns", "ReturnService")
    sessions = ServiceSlot("db.service.sessions", "SessionService")
    catalog = ServiceSlot("db.service.catalog", "CatalogService")
    stock = ServiceSlot("db.service.shipping", "StockService")
    leases = ServiceSlot("db.service.claiming", "LeaseService")
    customers = ServiceSlot("db.service.customers", "CustomerService")
    partners = ServiceSlot("db.service.partners", "PartnerService")
    webhooks = ServiceSlot("db.service.webhooks", "WebhookService")
    deliveries = ServiceSlot("db.service.deliveries", "DeliveryService")
    edi_partners = ServiceSlot("db.service.edi_partners", "EdiPartnerService")
    edi = ServiceSlot("db.service.edi_intake", "EdiIntake")
    edi_orders = ServiceSlot("db.service.edi_orders", "EdiOrderService")

    def __init__(self, store: Store, actor: Actor) -> None:
        self.store = store
        self.ctx = Context(store, actor)

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    @classmethod
    def for_user(cls, store: Store, name: str) -> "Desk":
        return cls(store, active_user(store.conn, name))

    @classmethod
    def operator(cls, store: Store, name: str = "operator") -> "Desk":
        return cls(store, Actor(name, None))

    @classmethod
    def open(cls, path: str | Path, user: str | None, *, rules: Rules | None = None,
             clock: Clock = system_clock, defer_rules: bool = False) -> "Desk":
        store = Store.open(path, rules=rules, clock=clock, defer_rules=defer_rules)
        try:
            return cls.for_user(store, user) if user else cls.operator(store)
        except Exception:
            store.close()
            raise

    def now(self) -> datetime:
        return self.store.now()


__all__ = ["Actor", "Context", "Desk", "Role"]
