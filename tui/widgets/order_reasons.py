"""The reasons a rep picks from when holding or cancelling an order, with the words that explain each."""
from __future__ import annotations

from core.enums import HoldReason

HOLD_REASONS: dict[HoldReason, str] = {
    HoldReason.CUSTOMER_INFO: "waiting on the customer for information (SLA paused)",
    HoldReason.CUSTOMER_REQUEST: "the customer asked us to wait (SLA paused)",
    HoldReason.PRICING: "pricing to be confirmed",
    HoldReason.STOCK: "a line needs more stock than is available",
    HoldReason.CREDIT: "over the credit limit (only a supervisor lifts it)",
}
CANCEL_REASONS = [
    ("customer cancelled", "the customer called off the order"),
    ("duplicate order", "entered twice"),
    ("no stock, no substitute", "cannot be supplied"),
    ("pricing not accepted", "the customer refused the price"),
    ("entered in error", "wrong customer or wrong items"),
]
