"""Domain records. The store hands these out; front ends show them; nothing here touches I/O."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.enums import Channel, HoldReason, OrderState, Priority, Role, Tier
from core.triage import effective_due, sla_paused
from core.when import from_epoch

if TYPE_CHECKING:
    from core.calendar import Calendar

_MODEL = ConfigDict(frozen=True, defer_build=True)


class User(BaseModel):
    model_config = _MODEL
    id: int
    name: str
    role: Role
    active: bool = True


class Customer(BaseModel):
    model_config = _MODEL
    id: int
    code: str
    name: str
    tier: Tier = Tier.STANDARD
    credit_limit: Decimal = Decimal("0")
    open_balance: Decimal = Decimal("0")
    country: str | None = None
    #: the default ship-to's city (and country, when it has one): what tells same-named customers apart
    city: str | None = None
    po_required: bool = False


class Product(BaseModel):
    model_config = _MODEL
    sku: str
    description: str = ""
    price: Decimal
    stock: int = 0
    category: str | None = None
    active: bool = True


class OrderLine(BaseModel):
    model_config = _MODEL
    line_no: int
    sku: str
    description: str = ""
    qty: Annotated[int, Field(gt=0)]
    unit_price: Annotated[Decimal, Field(ge=0)]
    discount_pct: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("0")
    amount: Decimal
    qty_returned: int = 0
    qty_shipped: int = 0
    #: stock set aside for the line (at release or as stock came in); qty − this is its backorder
    qty_allocated: int = 0

    @property
    def qty_backordered(self) -> int:
        return self.qty - self.qty_allocated


class Charge(BaseModel):
    model_config = _MODEL
    code: str
    description: str = ""
    amount: Decimal


class Order(BaseModel):
    model_config = _MODEL
    id: int
    number: str
    customer: Customer
    channel: Channel
    type: str
    state: OrderState
    priority: Priority
    priority_source: str
    received_at: datetime
    due_at: datetime
    total: Decimal
    hold_reason: HoldReason | None = None
    hold_note: str | None = None
    hold_started_at: datetime | None = None
    claimed_by: str | None = None
    claim_token: str | None = None
    lease_expires_at: datetime | None = None
    released_at: datetime | None = None
    shipped_at: datetime | None = None
    straight_through: bool = False
    queue_reason: str | None = None
    source_ref: str | None = None
    version: int = 1
    lines: tuple[OrderLine, ...] = ()
    charges: tuple[Charge, ...] = ()
    checklist: tuple[str, ...] = ()
    ticked: dict[str, str] = Field(default_factory=dict)
    #: the header (snapshots: name, street lines, city, region, postcode, country; contact: name, email, phone)
    ship_to: dict[str, Any] | None = None
    bill_to: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    po_number: str | None = None
    requested_date: date | None = None
    ship_method: str | None = None
    note: str | None = None

    @property
    def sla_paused(self) -> bool:
        return sla_paused(self.state.value, self.hold_reason and self.hold_reason.value)

    def effective_due(self, now: datetime, cal: Calendar) -> datetime:
        """due_at, moved on by a running customer hold (core.triage.effective_due)."""
        row = {"due_at": self.due_at.timestamp(), "state": self.state.value,
               "hold_reason": self.hold_reason and self.hold_reason.value,
               "hold_started_at": self.hold_started_at.timestamp() if self.hold_started_at else None}
        return from_epoch(effective_due(row, now, cal), self.due_at.tzinfo or UTC)


class Event(BaseModel):
    model_config = _MODEL
    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: int | None
    ref: str | None
    action: str
    data: dict[str, Any] = Field(default_factory=dict)
