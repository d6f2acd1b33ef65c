"""The order state machine and its guards. Every refusal says why, so the user knows what to fix."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from core.enums import Channel, HoldReason, OrderState, Tier
from core.errors import DomainError
from core.labels import or_list, state_label
from core.money import from_cents_int
from core.triage import Classification, classify, due_at

if TYPE_CHECKING:
    from core.rules import Rules

S = OrderState

#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[OrderState], OrderState]] = {
    "claim": (frozenset({S.QUEUED}), S.IN_PROGRESS),
    "unclaim": (frozenset({S.IN_PROGRESS}), S.QUEUED),
    "hold": (frozenset({S.QUEUED, S.IN_PROGRESS}), S.ON_HOLD),
    "unhold": (frozenset({S.ON_HOLD}), S.QUEUED),
    "release": (frozenset({S.IN_PROGRESS}), S.RELEASED),
    "auto_release": (frozenset({S.QUEUED}), S.RELEASED),
    "ship": (frozenset({S.RELEASED, S.BACKORDERED}), S.SHIPPED),
    "ship_part": (frozenset({S.RELEASED, S.BACKORDERED}), S.BACKORDERED),
    "close": (frozenset({S.SHIPPED}), S.CLOSED),
    # a backordered order cancelled: the rest is cancelled, what shipped stays shipped (and returnable)
    "cancel": (frozenset({S.QUEUED, S.IN_PROGRESS, S.ON_HOLD, S.RELEASED, S.BACKORDERED}), S.CANCELLED),
}

_VERB = {
    "claim": "claimed",
    "unclaim": "given back",
    "hold": "put on hold",
    "unhold": "taken off hold",
    "release": "released",
    "auto_release": "released straight through",
    "ship": "shipped",
    "ship_part": "shipped in part",
    "close": "closed",
    "cancel": "cancelled",
}


def transition(state: OrderState, action: str) -> OrderState:
    """The state after `action`, or a DomainError that says why it is not allowed."""
    try:
        sources, target = TRANSITIONS[action]
    except KeyError:
        raise DomainError(f"unknown order action {action!r}") from None
    if state not in sources:
        if state == target:
            raise DomainError(f"this order is already {state_label(state)}")
        allowed = or_list([state_label(s) for s in OrderState if s in sources])
        raise DomainError(f"this order is {state_label(state)}; only an order that is {allowed} can be {_VERB[action]}")
    return target


def missing_steps(checklist: Iterable[str], ticked: Iterable[str]) -> list[str]:
    done = set(ticked)
    return [step for step in checklist if step not in done]


def guard_release(checklist: Iterable[str], ticked: Iterable[str], line_count: int) -> None:
    """An order is released only when it is valid and every required step is ticked."""
    if line_count == 0:
        raise DomainError("an order with no lines cannot be released")
    missing = missing_steps(checklist, ticked)
    if missing:
        raise DomainError("checklist incomplete: " + ", ".join(repr(m) for m in missing))


def guard_unhold(reason: HoldReason, note: str | None, supervisor: bool, rules: Rules) -> None:
    if not (note and note.strip()):
        raise DomainError("leaving a hold needs a note", field="note")
    if reason in rules.holds.supervisor_only and not supervisor:
        raise DomainError(f"only a supervisor can lift a {reason.value} hold")


@dataclass(frozen=True)
class HoldCheck:
    """Automatic holds found when an order is validated, with the words shown to the rep."""

    reason: HoldReason
    note: str


def auto_holds(
    *,
    total: Decimal,
    open_balance: Decimal,
    credit_limit: Decimal,
    needs: Mapping[str, int],
    available: Mapping[str, int],
    rules: Rules,
) -> list[HoldCheck]:
    """Credit first (it needs a supervisor), then stock."""
    holds: list[HoldCheck] = []
    if rules.holds.credit_auto and total + open_balance > credit_limit:
        holds.append(
            HoldCheck(
                HoldReason.CREDIT,
                f"total {total:.2f} + open balance {open_balance:.2f} exceeds credit limit {credit_limit:.2f}",
            )
        )
    if rules.holds.stock_auto:
        short = [
            f"{sku} needs {qty}, {available.get(sku, 0)} available"
            for sku, qty in needs.items()
            if qty > available.get(sku, 0)
        ]
        if short:
            holds.append(HoldCheck(HoldReason.STOCK, "short: " + "; ".join(short)))
    return holds


def straight_through_blockers(
    *,
    channel: Channel,
    request_type: str,
    customer_known: bool,
    inactive_skus: Iterable[str],
    short_skus: Iterable[str],
    within_credit: bool,
    max_line_qty: int,
    rules: Rules,
) -> list[str]:
    """Why an electronic order must queue for a rep; empty means it goes straight through."""
    st = rules.straight_through
    if channel not in st.channels:
        return [f"channel {channel.value} is not straight-through"]
    reasons: list[str] = []
    if not customer_known:
        reasons.append("unknown customer")
    inactive = sorted(set(inactive_skus))
    if inactive:
        reasons.append("inactive SKU " + ", ".join(inactive))
    short = sorted(set(short_skus))
    if short:
        reasons.append("out of stock: " + ", ".join(short))
    if not within_credit:
        reasons.append("over credit limit")
    if request_type not in st.types:
        reasons.append(f"type {request_type} needs a rep")
    if max_line_qty > st.max_line_qty:
        reasons.append(f"a line exceeds {st.max_line_qty} units")
    return reasons


# ---- the decision entry makes: live (OrderService) and bulk import alike ------------------------------
@dataclass(frozen=True)
class Decision:
    state: OrderState
    straight: bool
    queue_reason: str | None
    hold: HoldCheck | None
    cls: Classification
    due: datetime


def decide(
    *,
    rules: Rules,
    channel: Channel,
    order_type: str,
    tier: Tier,
    known: bool,
    received_at: datetime,
    total_cents: int,
    open_balance_cents: int,
    credit_limit_cents: int,
    needs: Mapping[str, int],
    available: Mapping[str, int],
    inactive_skus: Iterable[str],
    max_line_qty: int,
    fixed_class: Classification | None = None,
    needs_rep: str | None = None,
) -> Decision:
    """Class, due time, automatic holds and straight-through for a new order: one decision, made
    the same way for an order typed in, read from an API or imported in bulk.

    `fixed_class`: a class set by policy rather than by type and tier (an exchange's replacement,
    SPEC §2 "Returns"); `needs_rep`: why this order is worked by a rep whatever its channel."""
    cls = fixed_class or classify(rules, order_type, tier)
    due = due_at(received_at, cls.priority, rules)
    holds = auto_holds(
        total=from_cents_int(total_cents), open_balance=from_cents_int(open_balance_cents),
        credit_limit=from_cents_int(credit_limit_cents), needs=needs, available=available, rules=rules,
    )
    state = OrderState.QUEUED
    queue_reason = None
    straight = False
    if needs_rep:
        queue_reason = needs_rep
    elif channel in rules.straight_through.channels:
        blockers = straight_through_blockers(
            channel=channel, request_type=order_type, customer_known=known, inactive_skus=inactive_skus,
            short_skus=[s for s, q in needs.items() if q > available.get(s, 0)],
            within_credit=not any(h.reason == HoldReason.CREDIT for h in holds),
            max_line_qty=max_line_qty, rules=rules,
        )
        if not blockers:
            state, straight = OrderState.RELEASED, True
        else:
            queue_reason = "; ".join(blockers)
    hold = holds[0] if holds and state != OrderState.RELEASED else None
    if hold:
        state = OrderState.ON_HOLD
    return Decision(state, straight, queue_reason, hold, cls, due)
