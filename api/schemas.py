"""The API's request and response bodies, as the OpenAPI document publishes them.

Requests refuse unknown fields (`extra="forbid"`): a misspelt `extrnal_ref` is an error naming it,
not an order without its reference. Money is a decimal string, never a JSON number (a float).
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.enums import Resolution, ReturnReason
from core.lines import MAX_QTY

_IN = ConfigDict(extra="forbid")
PRICE = r"^[0-9]{1,10}(\.[0-9]{1,4})?$"
Text100 = Field(default=None, max_length=100)


class LineIn(BaseModel):
    model_config = _IN
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY)
    price: str | None = Field(default=None, pattern=PRICE, description="unit price; only for partners that may set prices")


class AddressIn(BaseModel):
    model_config = _IN
    name: str = Field(min_length=1, max_length=100)
    street: list[str] = Field(min_length=1, max_length=3)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Text100
    postcode: str | None = Field(default=None, max_length=20)
    country: str = Field(min_length=1, max_length=100)


class OrderIn(BaseModel):
    model_config = _IN
    customer: str | None = Field(default=None, max_length=32,
                                 description="customer code; a partner tied to one customer may leave it out")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    external_ref: str | None = Field(default=None, max_length=100, description="your order number; a resend is a duplicate")
    type: str = Field(default="standard", min_length=1, max_length=40)
    ship_to: AddressIn | None = None
    po_number: str | None = Text100
    requested_date: date | None = None
    ship_method: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)


class OrderCreated(BaseModel):
    number: str
    state: str
    queue_reason: str | None
    total: str
    due_at: str | None
    external_ref: str | None


class OrderLineOut(BaseModel):
    line_no: int
    sku: str
    description: str
    qty: int
    unit_price: str
    amount: str
    qty_shipped: int


class OrderOut(BaseModel):
    number: str
    state: str
    queue_reason: str | None
    hold_reason: str | None
    total: str
    due_at: str | None
    received_at: str | None
    released_at: str | None
    shipped_at: str | None
    cancelled_at: str | None
    customer: str | None
    type: str
    channel: str
    external_ref: str | None
    po_number: str | None
    ship_to: dict | None
    lines: list[OrderLineOut]


class OrderPage(BaseModel):
    orders: list[OrderOut]
    next_cursor: str | None = Field(description="pass as updated_since for the next page; opaque")
    more: bool


class CancelIn(BaseModel):
    model_config = _IN
    reason: str | None = Field(default=None, max_length=500)


class ReturnLineIn(BaseModel):
    model_config = _IN
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY)
    reason: Literal[tuple(r.value for r in ReturnReason)]  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=500)
    opened: bool = True


class ReturnIn(BaseModel):
    model_config = _IN
    order: str = Field(min_length=1, max_length=32)
    resolution: Literal[tuple(r.value for r in Resolution)]  # type: ignore[valid-type]
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class ReturnLineOut(BaseModel):
    order: str
    sku: str
    qty: int
    reason: str
    qty_received: int | None


class ReturnOut(BaseModel):
    number: str
    state: str
    resolution: str
    orders: list[str]
    refund: str = Field(description="what the returns policy expects to refund (final once refund_final)")
    refund_final: bool
    needs_approval: str | None
    requested_at: str | None
    lines: list[ReturnLineOut]


class ProductOut(BaseModel):
    sku: str
    description: str
    price: str
    available: int
    category: str | None


class Products(BaseModel):
    products: list[ProductOut]


class WebhookAnswer(BaseModel):
    number: str | None = None
    state: str | None = None
    queue_reason: str | None = None
    total: str | None = None
    due_at: str | None = None
    external_ref: str | None = None
    ignored: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None
    number: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
