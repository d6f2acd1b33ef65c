"""The rules file: request types, SLAs, tier effects, holds and limits live in TOML, not code.

Parsing is pure (text in, model out); reading the file is the caller's job.
"""
from __future__ import annotations

import tomllib
from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.calendar import Calendar, CalendarError, parse_calendar
from core.enums import Channel, HoldReason, Priority, Tier
from core.errors import RulesError

_STRICT = ConfigDict(extra="forbid", frozen=True)
# default factories are lambdas, not `list`/`dict`: pydantic inspects a factory's signature, and for
# a builtin that compiles the tokenizer's regexes (a few ms of every start-up)


class RequestType(BaseModel):
    model_config = _STRICT
    priority: Priority
    checklist: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=lambda: [])


class Holds(BaseModel):
    model_config = _STRICT
    credit_auto: bool = True
    stock_auto: bool = True
    supervisor_only: list[HoldReason] = Field(default_factory=lambda: [HoldReason.CREDIT])


class StraightThrough(BaseModel):
    model_config = _STRICT
    channels: list[Channel] = Field(default_factory=lambda: [Channel.ONLINE, Channel.EDI])
    types: list[str] = Field(default_factory=lambda: ["standard"])
    max_line_qty: Annotated[int, Field(gt=0)] = 1000


class NewCustomers(BaseModel):
    """A customer made by a partner's order (a Shopify buyer whose email no customer has): the tier,
    credit limit and "known" it starts with. Known by default: the buyer checked out and paid at the
    shop, and an unknown customer would send every first order to a rep (set `known = false` to have
    a rep look at first-time buyers). The credit limit is the one imports give new customers."""

    model_config = _STRICT
    tier: Tier = Tier.STANDARD
    credit_limit: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))] = Decimal("50000.00")
    known: bool = True


class Claims(BaseModel):
    model_config = _STRICT
    lease_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 10


class Queue(BaseModel):
    model_config = _STRICT
    at_risk_minutes: Annotated[float, Field(ge=0)] = 15


class ReturnsPolicy(BaseModel):
    model_config = _STRICT
    window_days: Annotated[int, Field(ge=0)] = 30
    window_days_by_category: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: {})
    restocking_fee_pct: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("15")
    approval_threshold: Annotated[Decimal, Field(ge=0)] = Decimal("500.00")
    exchange_priority: Priority = Priority.P2

    def window_for(self, category: str | None) -> timedelta:
        days = self.window_days_by_category.get(category or "", self.window_days)
        return timedelta(days=days)


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    sla_minutes: dict[Priority, Annotated[float, Field(gt=0)]]
    tiers: dict[Tier, Annotated[int, Field(ge=0, le=3)]] = Field(default_factory=lambda: {})
    request_types: dict[str, RequestType]
    holds: Holds = Field(default_factory=Holds)
    straight_through: StraightThrough = Field(default_factory=StraightThrough)
    claims: Claims = Field(default_factory=Claims)
    queue: Queue = Field(default_factory=Queue)
    returns: ReturnsPolicy = Field(default_factory=ReturnsPolicy)
    new_customers: NewCustomers = Field(default_factory=NewCustomers)
    #: desk hours for the SLA clock (core.calendar); parse_rules validates the TOML value with
    #: parse_calendar, the same function the queue's first paint uses before pydantic loads
    calendar: Calendar = Field(default_factory=lambda: parse_calendar(None))
    #: how an order may ship; the first is the default an order gets when none is named
    ship_methods: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=lambda: ["ground", "express", "overnight", "freight", "pickup"])

    @field_validator("sla_minutes")
    @classmethod
    def _every_class_has_an_sla(cls, v: dict[Priority, float]) -> dict[Priority, float]:
        missing = [p.value for p in Priority if p not in v]
        if missing:
            raise ValueError(f"missing SLA for {', '.join(missing)}")
        return v

    @field_validator("request_types")
    @classmethod
    def _at_least_one_type(cls, v: dict[str, RequestType]) -> dict[str, RequestType]:
        if not v:
            raise ValueError("at least one request type is needed")
        return v

    @field_validator("ship_methods")
    @classmethod
    def _ship_methods_named_once(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one shipping method is needed")
        seen = [m.strip().casefold() for m in v]
        if any(not m for m in seen):
            raise ValueError("a shipping method name is blank")
        dup = next((m for i, m in enumerate(seen) if m in seen[:i]), None)
        if dup is not None:
            raise ValueError(f"shipping method {dup!r} is listed twice")
        return [m.strip() for m in v]

    def sla(self, priority: Priority) -> timedelta:
        return timedelta(minutes=self.sla_minutes[priority])

    def request_type(self, name: str) -> RequestType:
        try:
            return self.request_types[name]
        except KeyError:
            known = ", ".join(sorted(self.request_types))
            raise RulesError(f"unknown request type {name!r} (known: {known})", field="type") from None

    @property
    def lease(self) -> timedelta:
        return timedelta(minutes=self.claims.lease_minutes)

    @property
    def at_risk(self) -> timedelta:
        return timedelta(minutes=self.queue.at_risk_minutes)


def parse_rules(text: str, source: str = "rules") -> Rules:
    """Validate a rules document; any problem becomes one RulesError naming the bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{source}: not valid TOML: {e}") from None
    try:
        data["calendar"] = parse_calendar(data.get("calendar"))
    except CalendarError as e:
        raise RulesError(f"{source}: bad key {e.key!r}: {e.message}", field=e.key) from None
    try:
        return Rules.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise RulesError(f"{source}: bad key {key!r}: {msg}", field=key) from None
