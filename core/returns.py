"""Returns (RMA): the state machine, the policy and the refund computation. Pure: rows in, decisions out.

Policy decisions (SPEC §2 Returns, where the SPEC leaves a choice):
- **Refund per line** is the customer's share of what they paid for the line (the line amount, after
  its discount), allocated by units so the shares of one order line always add up to exactly the
  line amount: a return of ``n`` units, after ``b`` units of that line were already refunded, gets
  ``cents(A·(b+n)/Q) − cents(A·b/Q)`` (half-even). Only units actually *received* are refunded.
- **Restocking fee**: only ``no_longer_needed`` and ``other`` on opened items, ``fee_pct`` of the
  line refund, half-even per line. ``arrived_late`` is neither fault nor fee.
- **Shipping**: a fault reason (``damaged``, ``defective``, ``wrong_item``, ``not_as_described``)
  refunds the original order's shipping charges (kind ``shipping``) **whole, once per order**: the
  first resolved return with a fault line on that order refunds all of it; later returns refund none.
- **Exchange**: the replacement is shipped at no charge, so the lines refund nothing and no fee is
  taken; shipping on fault reasons is still refunded in money.
- **Approval**: outside the window (per product category, from the order's shipment) or a computed
  refund above the threshold leads to ``pending_approval``; a supervisor other than the requester
  approves (→ ``authorized``) or rejects.
- **Triage**: fault reasons make a return P2, others P3; a key account raises it by the tier rule.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import Priority, Resolution, ReturnReason, ReturnState, Tier
from core.errors import DomainError, PermissionDenied, ValidationError
from core.money import HUNDRED, cents, fmt
from core.rules import ReturnsPolicy, Rules
from core.triage import Classification

S = ReturnState
ZERO = Decimal("0.00")

#: reasons that pay a restocking fee on opened items
FEE_REASONS = frozenset({ReturnReason.NO_LONGER_NEEDED, ReturnReason.OTHER})

#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ReturnState], ReturnState]] = {
    "authorize": (frozenset({S.REQUESTED}), S.AUTHORIZED),
    "approve": (frozenset({S.PENDING_APPROVAL}), S.AUTHORIZED),
    "reject": (frozenset({S.REQUESTED, S.PENDING_APPROVAL}), S.REJECTED),
    "receive": (frozenset({S.AUTHORIZED}), S.RECEIVED),
    "inspect": (frozenset({S.RECEIVED}), S.INSPECTED),
    "resolve": (frozenset({S.INSPECTED}), S.RESOLVED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
}

#: what the clerk does next in each state (for the TUI and messages)
NEXT_STEP = {
    S.REQUESTED: "authorize or reject",
    S.PENDING_APPROVAL: "a supervisor approves or rejects",
    S.AUTHORIZED: "receive the goods",
    S.RECEIVED: "inspect each line",
    S.INSPECTED: "resolve (refund, credit or exchange)",
    S.RESOLVED: "close",
}


def transition(state: ReturnState, action: str) -> ReturnState:
    try:
        sources, target = TRANSITIONS[action]
    except KeyError:
        raise DomainError(f"unknown return action {action!r}") from None
    if state not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        hint = f"; next: {NEXT_STEP[state]}" if state in NEXT_STEP else ""
        raise DomainError(f"cannot {action} a {state.value} return (only from {allowed}){hint}")
    return target


def guard_approver(requested_by: str, approver: str) -> None:
    """Separation of duties: whoever asked for the return never approves it."""
    if requested_by == approver:
        raise PermissionDenied(f"{approver} requested this return and may not approve it; another supervisor must")


def creation_state(approval_reasons: list[str]) -> ReturnState:
    return S.PENDING_APPROVAL if approval_reasons else S.REQUESTED


# ---- validation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Requested:
    """One requested line, as typed: `key` names the order line (e.g. (order, line_no))."""

    key: object
    sku: str
    qty: int
    reason: ReturnReason
    note: str | None = None


def parse_reason(text: str, *, field: str = "reason") -> ReturnReason:
    try:
        return ReturnReason((text or "").strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in ReturnReason)
        raise ValidationError(f"unknown reason {text!r} ({known})", field=field) from None


def parse_resolution(text: str) -> Resolution:
    try:
        return Resolution((text or "").strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Resolution)
        raise ValidationError(f"unknown resolution {text!r} ({known})", field="resolution") from None


def validate_request(lines: list[Requested], returnable: Mapping[object, int], note: str | None = None) -> None:
    """Quantities within shipped − already returned (summed over this request too); `other` needs a note."""
    if not lines:
        raise ValidationError("a return needs at least one line", field="lines")
    asked: dict[object, int] = defaultdict(int)
    for i, ln in enumerate(lines, start=1):
        if ln.qty <= 0:
            raise ValidationError(f"line {i} ({ln.sku}): quantity must be more than 0", field=f"lines.{i}.qty")
        if ln.reason == ReturnReason.OTHER and not ((ln.note or "").strip() or (note or "").strip()):
            raise ValidationError(f"line {i} ({ln.sku}): reason 'other' needs a note", field="note")
        asked[ln.key] += ln.qty
        left = returnable.get(ln.key, 0)
        if asked[ln.key] > left:
            raise ValidationError(
                f"line {i} ({ln.sku}): {asked[ln.key]} asked but only {left} can be returned "
                "(shipped minus already returned)", field=f"lines.{i}.qty")


def outside_window(shipped_at: datetime | None, category: str | None, now: datetime,
                   policy: ReturnsPolicy) -> timedelta | None:
    """How far past its window a shipment is (None: within it)."""
    if shipped_at is None:
        return None
    end = shipped_at + policy.window_for(category)
    return now - end if now > end else None


# ---- money -----------------------------------------------------------------------------

def unit_share(line_amount: Decimal, line_qty: int, units_before: int, qty: int) -> Decimal:
    """The customer's share of a line's amount for `qty` units after `units_before` were refunded.

    Telescoping half-even shares: refunds of one line never add up to more than the line amount.
    """
    if line_qty <= 0 or qty < 0 or units_before < 0 or units_before + qty > line_qty:
        raise DomainError(f"cannot refund {qty} units after {units_before} of a line of {line_qty}")
    q = Decimal(line_qty)
    return cents(line_amount * (units_before + qty) / q) - cents(line_amount * units_before / q)


def restocking_fee(amount: Decimal, reason: ReturnReason, opened: bool, pct: Decimal) -> Decimal:
    if reason in FEE_REASONS and opened:
        return cents(amount * pct / HUNDRED)
    return ZERO


@dataclass(frozen=True)
class QuoteLine:
    """What one returned line is worth, as the policy computes it."""

    key: object
    order: str
    sku: str
    qty: int                  # units refunded (received, or requested for an estimate)
    reason: ReturnReason
    opened: bool
    line_amount: Decimal      # what the customer paid for the whole order line
    line_qty: int
    units_before: int         # units of this order line already refunded by earlier returns


@dataclass
class QuoteResult:
    lines: list[tuple[QuoteLine, Decimal, Decimal]] = field(default_factory=list)  # (line, gross, fee)
    shipping: dict[str, Decimal] = field(default_factory=dict)                    # order -> shipping refunded
    explanation: list[str] = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((g for _, g, _ in self.lines), ZERO)

    @property
    def fee(self) -> Decimal:
        return sum((f for _, _, f in self.lines), ZERO)

    @property
    def shipping_total(self) -> Decimal:
        return sum(self.shipping.values(), ZERO)

    @property
    def total(self) -> Decimal:
        return self.gross - self.fee + self.shipping_total


def quote(lines: Iterable[QuoteLine], *, resolution: Resolution, shipping_paid: Mapping[str, Decimal],
          shipping_refunded_before: Iterable[str], policy: ReturnsPolicy) -> QuoteResult:
    """Compute (and explain line by line) the refund or credit: Σ line shares − fees + fault shipping.

    `shipping_paid`: order → its shipping charges; `shipping_refunded_before`: orders whose shipping an
    earlier resolved return already refunded.
    """
    out = QuoteResult()
    done_before = set(shipping_refunded_before)
    fault_orders: list[str] = []
    pct = policy.restocking_fee_pct
    for ln in lines:
        share = unit_share(ln.line_amount, ln.line_qty, ln.units_before, ln.qty)
        label = f"{ln.order} {ln.sku} ×{ln.qty} ({ln.reason.value})"
        if resolution == Resolution.EXCHANGE:
            gross, fee = ZERO, ZERO
            out.explanation.append(f"{label}: replaced at no charge (worth {fmt(share)}), refunds 0.00")
        else:
            gross = share
            fee = restocking_fee(gross, ln.reason, ln.opened, pct)
            text = f"{label}: {ln.qty}/{ln.line_qty} of {fmt(ln.line_amount)} paid = {fmt(gross)}"
            if fee:
                text += f", restocking fee {pct}% −{fmt(fee)} (opened, not our fault)"
            elif ln.reason in FEE_REASONS:
                text += ", no restocking fee (unopened)"
            elif ln.reason.fault:
                text += ", no restocking fee (our fault)"
            out.explanation.append(text)
        out.lines.append((ln, gross, fee))
        if ln.reason.fault and ln.order not in fault_orders:
            fault_orders.append(ln.order)
    for order in fault_orders:
        paid = shipping_paid.get(order, ZERO)
        if not paid:
            continue
        if order in done_before:
            out.explanation.append(f"{order} shipping {fmt(paid)}: refunded already by an earlier return")
            continue
        out.shipping[order] = paid
        out.explanation.append(f"{order} shipping {fmt(paid)} refunded (fault reason)")
    word = "store credit" if resolution == Resolution.STORE_CREDIT else "refund"
    out.explanation.append(
        f"{word} = {fmt(out.gross)} − fees {fmt(out.fee)} + shipping {fmt(out.shipping_total)} = {fmt(out.total)}")
    return out


def approval_reasons(*, estimate: Decimal, late: Mapping[str, timedelta], policy: ReturnsPolicy) -> list[str]:
    """Why a new return needs a supervisor (empty: it does not)."""
    why = []
    if estimate > policy.approval_threshold:
        why.append(f"refund {fmt(estimate)} exceeds the approval threshold {fmt(policy.approval_threshold)}")
    for order, by in late.items():
        days = max(1, int(by.total_seconds() // 86400) + (1 if by.total_seconds() % 86400 else 0))
        why.append(f"{order} is outside the return window by {days} day{'s' if days != 1 else ''}")
    return why


def classify_return(reasons: Iterable[ReturnReason], tier: Tier, rules: Rules) -> Classification:
    """Fault reasons rank higher (P2, else P3); a key account raises the class by the tier rule."""
    fault = any(r.fault for r in reasons)
    base = Priority.P2 if fault else Priority.P3
    raise_by = rules.tiers.get(tier, 0)
    final = Priority.of_level(base.level - raise_by)
    source = f"{'fault reason' if fault else 'no fault'} → {base.value}"
    if final != base:
        source += f", {tier.value.replace('_', ' ')} raises to {final.value}"
    return Classification(final, source)
