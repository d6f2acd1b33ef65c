"""Closed vocabularies of the domain. Values are the strings stored and shown."""
from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    ONLINE = "online"
    EDI = "edi"
    WALK_IN = "walk_in"

    @property
    def electronic(self) -> bool:
        return self in (Channel.ONLINE, Channel.EDI)


class Tier(StrEnum):
    STANDARD = "standard"
    REPEAT = "repeat"
    KEY_ACCOUNT = "key_account"

    @property
    def rank(self) -> int:
        """Lower ranks first in the queue: key accounts count for more."""
        return {Tier.KEY_ACCOUNT: 0, Tier.REPEAT: 1, Tier.STANDARD: 2}[self]


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def level(self) -> int:
        return int(self.value[1])

    @classmethod
    def of_level(cls, level: int) -> "Priority":
        return cls(f"P{min(4, max(1, level))}")


class OrderState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    #: part shipped, the rest still owed: a backorder on the same order (SPEC §2 "shipping may be partial")
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        """Open work still owed to the customer by the order desk."""
        return self in (OrderState.QUEUED, OrderState.IN_PROGRESS, OrderState.ON_HOLD)

    @property
    def returnable(self) -> bool:
        """A return takes back only goods that shipped (SPEC §2); a backordered order has shipped some.
        (Line by line, what can come back is qty_shipped − qty_returned.)"""
        return self in (OrderState.SHIPPED, OrderState.CLOSED, OrderState.BACKORDERED)


class HoldReason(StrEnum):
    CREDIT = "credit"
    STOCK = "stock"
    CUSTOMER_INFO = "customer_info"
    PRICING = "pricing"
    CUSTOMER_REQUEST = "customer_request"

    @property
    def pauses_sla(self) -> bool:
        """Only waits on the customer stop the SLA clock."""
        return self in (HoldReason.CUSTOMER_INFO, HoldReason.CUSTOMER_REQUEST)


class Role(StrEnum):
    REP = "rep"
    RETURNS = "returns"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ReturnState(StrEnum):
    REQUESTED = "requested"
    PENDING_APPROVAL = "pending_approval"
    AUTHORIZED = "authorized"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def open(self) -> bool:
        return self not in (ReturnState.RESOLVED, ReturnState.CLOSED, ReturnState.REJECTED)


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    NO_LONGER_NEEDED = "no_longer_needed"
    ARRIVED_LATE = "arrived_late"
    OTHER = "other"

    @property
    def fault(self) -> bool:
        """Our fault: the customer gets shipping back and pays no restocking fee."""
        return self in (
            ReturnReason.DAMAGED,
            ReturnReason.DEFECTIVE,
            ReturnReason.WRONG_ITEM,
            ReturnReason.NOT_AS_DESCRIBED,
        )


class Resolution(StrEnum):
    REFUND = "refund"
    STORE_CREDIT = "store_credit"
    EXCHANGE = "exchange"


class Grade(StrEnum):
    NEW = "new"
    LIKE_NEW = "like_new"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"


class Disposition(StrEnum):
    RESTOCK = "restock"
    REFURBISH = "refurbish"
    SCRAP = "scrap"
    RETURN_TO_VENDOR = "return_to_vendor"
