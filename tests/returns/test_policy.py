"""The return state machine and policy (core/returns.py): unit and property tests."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import returns as rp
from core.enums import Priority, Resolution, ReturnReason, ReturnState, Tier
from core.errors import DomainError, PermissionDenied, ValidationError
from core.rules import ReturnsPolicy, parse_rules
from db.config import default_rules_text, load_rules

S = ReturnState
POLICY = ReturnsPolicy()
FAULT = [r for r in ReturnReason if r.fault]
NON_FAULT = [r for r in ReturnReason if not r.fault]


def ql(qty: int, reason: ReturnReason, *, amount: str = "100.00", line_qty: int = 10, before: int = 0,
       opened: bool = True, order: str = "SO-1", key: object = 1) -> rp.QuoteLine:
    return rp.QuoteLine(key=key, order=order, sku="SKU", qty=qty, reason=reason, opened=opened,
                        line_amount=Decimal(amount), line_qty=line_qty, units_before=before)


# ---- state machine ----------------------------------------------------------------------

def test_happy_path() -> None:
    s = S.REQUESTED
    for action, want in [("authorize", S.AUTHORIZED), ("receive", S.RECEIVED), ("inspect", S.INSPECTED),
                         ("resolve", S.RESOLVED), ("close", S.CLOSED)]:
        s = rp.transition(s, action)
        assert s == want


def test_approval_path_and_rejections() -> None:
    assert rp.transition(S.PENDING_APPROVAL, "approve") == S.AUTHORIZED
    assert rp.transition(S.REQUESTED, "reject") == S.REJECTED
    assert rp.transition(S.PENDING_APPROVAL, "reject") == S.REJECTED
    assert rp.creation_state([]) == S.REQUESTED
    assert rp.creation_state(["too big"]) == S.PENDING_APPROVAL


@pytest.mark.parametrize("state,action", [
    (S.PENDING_APPROVAL, "authorize"),  # pending needs a supervisor's approval, not a clerk's authorize
    (S.REQUESTED, "approve"), (S.REQUESTED, "receive"), (S.AUTHORIZED, "reject"), (S.RECEIVED, "resolve"),
    (S.RESOLVED, "resolve"), (S.CLOSED, "close"), (S.REJECTED, "authorize"),
])
def test_illegal_transitions_say_why(state: ReturnState, action: str) -> None:
    with pytest.raises(DomainError, match=f"cannot {action} a {state.value} return"):
        rp.transition(state, action)


def test_every_state_is_reachable_or_terminal() -> None:
    reachable = {S.REQUESTED, S.PENDING_APPROVAL} | {t for _, t in rp.TRANSITIONS.values()}
    assert reachable == set(ReturnState)


def test_separation_of_duties() -> None:
    with pytest.raises(PermissionDenied, match="may not approve"):
        rp.guard_approver("sam", "sam")
    rp.guard_approver("carol", "sam")


# ---- validation --------------------------------------------------------------------------

def test_validate_quantities_across_lines_and_other_needs_note() -> None:
    req = [rp.Requested(key=1, sku="A", qty=2, reason=ReturnReason.DAMAGED),
           rp.Requested(key=1, sku="A", qty=2, reason=ReturnReason.DEFECTIVE)]
    with pytest.raises(ValidationError, match="4 asked but only 3"):
        rp.validate_request(req, {1: 3})
    rp.validate_request(req, {1: 4})
    other = [rp.Requested(key=1, sku="A", qty=1, reason=ReturnReason.OTHER)]
    with pytest.raises(ValidationError, match="needs a note"):
        rp.validate_request(other, {1: 4})
    rp.validate_request(other, {1: 4}, note="customer changed mind about colour")
    with pytest.raises(ValidationError, match="more than 0"):
        rp.validate_request([rp.Requested(key=1, sku="A", qty=0, reason=ReturnReason.DAMAGED)], {1: 4})
    with pytest.raises(ValidationError, match="unknown reason"):
        rp.parse_reason("broken")


def test_window_per_category() -> None:
    rules = parse_rules(default_rules_text().replace(
        "[returns.window_days_by_category]", "[returns.window_days_by_category]\nTools = 90"))
    shipped = datetime(2026, 1, 1, tzinfo=UTC)
    now = shipped + timedelta(days=45)
    assert rp.outside_window(shipped, "Toys", now, rules.returns) == timedelta(days=15)
    assert rp.outside_window(shipped, "Tools", now, rules.returns) is None
    assert rp.outside_window(shipped, None, shipped + timedelta(days=30), rules.returns) is None
    why = rp.approval_reasons(estimate=Decimal("10"), late={"SO-1": timedelta(days=15)}, policy=rules.returns)
    assert why == ["SO-1 is outside the return window by 15 days"]
    assert rp.approval_reasons(estimate=Decimal("500.00"), late={}, policy=POLICY) == []
    assert rp.approval_reasons(estimate=Decimal("500.01"), late={}, policy=POLICY)[0].startswith("refund 500.01 exceeds")


def test_triage_class() -> None:
    rules = load_rules()
    assert rp.classify_return([ReturnReason.DAMAGED], Tier.STANDARD, rules).priority == Priority.P2
    assert rp.classify_return([ReturnReason.NO_LONGER_NEEDED], Tier.STANDARD, rules).priority == Priority.P3
    assert rp.classify_return([ReturnReason.NO_LONGER_NEEDED], Tier.KEY_ACCOUNT, rules).priority == Priority.P2
    c = rp.classify_return([ReturnReason.OTHER, ReturnReason.WRONG_ITEM], Tier.KEY_ACCOUNT, rules)
    assert c.priority == Priority.P1 and "key account raises" in c.source


# ---- money -------------------------------------------------------------------------------

def test_fee_only_for_non_fault_opened() -> None:
    q = rp.quote([ql(1, ReturnReason.NO_LONGER_NEEDED)], resolution=Resolution.REFUND, shipping_paid={},
                 shipping_refunded_before=[], policy=POLICY)
    assert (q.gross, q.fee, q.total) == (Decimal("10.00"), Decimal("1.50"), Decimal("8.50"))
    q = rp.quote([ql(1, ReturnReason.NO_LONGER_NEEDED, opened=False)], resolution=Resolution.REFUND,
                 shipping_paid={}, shipping_refunded_before=[], policy=POLICY)
    assert q.fee == 0 and "unopened" in q.explanation[0]
    q = rp.quote([ql(1, ReturnReason.ARRIVED_LATE)], resolution=Resolution.REFUND, shipping_paid={"SO-1": Decimal("6.95")},
                 shipping_refunded_before=[], policy=POLICY)
    assert (q.fee, q.shipping_total, q.total) == (0, 0, Decimal("10.00"))


def test_fault_refunds_shipping_whole_once_per_order() -> None:
    lines = [ql(1, ReturnReason.DAMAGED), ql(1, ReturnReason.DEFECTIVE, key=2),
             ql(1, ReturnReason.DAMAGED, order="SO-2", key=3)]
    q = rp.quote(lines, resolution=Resolution.REFUND, shipping_paid={"SO-1": Decimal("6.95"), "SO-2": Decimal("4.95")},
                 shipping_refunded_before=["SO-2"], policy=POLICY)
    assert q.shipping == {"SO-1": Decimal("6.95")}
    assert q.total == Decimal("30.00") + Decimal("6.95")
    assert any("refunded already" in x for x in q.explanation)


def test_exchange_refunds_no_goods_but_fault_shipping() -> None:
    q = rp.quote([ql(2, ReturnReason.DEFECTIVE)], resolution=Resolution.EXCHANGE, shipping_paid={"SO-1": Decimal("5")},
                 shipping_refunded_before=[], policy=POLICY)
    assert (q.gross, q.fee, q.total) == (0, 0, Decimal("5.00"))
    assert "replaced at no charge" in q.explanation[0]


def test_half_even_shares_add_up_to_the_line() -> None:
    # 2.00 over 3 units: 0.67 + 0.66 + 0.67, never 2.01
    shares = [rp.unit_share(Decimal("2.00"), 3, b, 1) for b in range(3)]
    assert sum(shares) == Decimal("2.00")
    with pytest.raises(DomainError):
        rp.unit_share(Decimal("2.00"), 3, 2, 2)


@settings(max_examples=300, deadline=None)
@given(
    amount_cents=st.integers(min_value=0, max_value=10_000_000),
    line_qty=st.integers(min_value=1, max_value=500),
    data=st.data(),
    reason=st.sampled_from(list(ReturnReason)),
    opened=st.booleans(),
    shipping_cents=st.integers(min_value=0, max_value=5000),
    resolution=st.sampled_from(list(Resolution)),
)
def test_refund_never_exceeds_paid_plus_fault_shipping(amount_cents: int, line_qty: int, data: st.DataObject,
                                                        reason: ReturnReason, opened: bool, shipping_cents: int,
                                                        resolution: Resolution) -> None:
    """Any sequence of returns against one line: each refund ≤ the exact share (rounded up to the cent) plus the
    shipping on fault reasons, the restocking fee is zero for fault reasons, and together they never exceed what
    was paid for the line plus its shipping once."""
    amount = Decimal(amount_cents) / 100
    shipping = Decimal(shipping_cents) / 100
    before = 0
    refunded_shipping: list[str] = []
    total = Decimal(0)
    while before < line_qty:
        n = data.draw(st.integers(min_value=1, max_value=line_qty - before))
        q = rp.quote([ql(n, reason, amount=str(amount), line_qty=line_qty, before=before, opened=opened)],
                     resolution=resolution, shipping_paid={"SO-1": shipping}, shipping_refunded_before=refunded_shipping,
                     policy=POLICY)
        exact_up = (amount * n / line_qty).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        allowed = exact_up + (shipping if reason.fault else 0)
        assert 0 <= q.total <= allowed
        if reason.fault:
            assert q.fee == 0
            refunded_shipping.append("SO-1")
        else:
            assert q.shipping_total == 0
        total += q.total
        before += n
        if data.draw(st.booleans()):
            break
    assert total <= amount + (shipping if reason.fault else 0)


@settings(max_examples=300, deadline=None)
@given(shipped=st.integers(min_value=1, max_value=50),
       asks=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=8))
def test_returned_never_exceeds_shipped_across_returns(shipped: int, asks: list[int]) -> None:
    """Returns one after another against one line (as the service does: reserve on acceptance)."""
    returned = 0
    for qty in asks:
        try:
            rp.validate_request([rp.Requested(key="L", sku="A", qty=qty, reason=ReturnReason.DAMAGED)],
                                {"L": shipped - returned})
        except ValidationError:
            assert returned + qty > shipped
            continue
        returned += qty
        assert returned <= shipped


@given(reason=st.sampled_from(FAULT), amount=st.decimals(min_value=0, max_value=100000, places=2), opened=st.booleans(),
       pct=st.decimals(min_value=0, max_value=100, places=2))
def test_fee_zero_for_fault_reasons(reason: ReturnReason, amount: Decimal, opened: bool, pct: Decimal) -> None:
    assert rp.restocking_fee(amount, reason, opened, pct) == 0
