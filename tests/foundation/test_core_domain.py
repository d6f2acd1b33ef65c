"""Pure domain: triage order, state machines, rules, money; Hypothesis where a property fits."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import orders as machine
from core.labels import state_label
from core.enums import HoldReason, OrderState, Priority, Tier
from core.errors import DomainError, RulesError
from core.money import line_amount
from core.rules import parse_rules
from core.calendar import ALWAYS_OPEN
from core.triage import Slack, classify, due_at, effective_due, explain, queue_key, slack

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules():
    from db.config import default_rules_text

    return parse_rules(default_rules_text())


@pytest.fixture(scope="module")
def rules_24x7():
    """The round-the-clock desk (`calendar = "24x7"`): today's wall-clock arithmetic."""
    from tests.conftest import rules_with_calendar

    return parse_rules(rules_with_calendar('calendar = "24x7"'))


def test_key_account_raises_class_by_one_but_never_above_p1(rules) -> None:
    assert classify(rules, "standard", Tier.STANDARD).priority == Priority.P3
    std_key = classify(rules, "standard", Tier.KEY_ACCOUNT)
    assert std_key.priority == Priority.P2
    assert "key account raises to P2" in std_key.source
    assert classify(rules, "rush", Tier.KEY_ACCOUNT).priority == Priority.P1


def test_due_at_is_received_plus_sla_plus_paused(rules_24x7) -> None:
    assert due_at(T0, Priority.P1, rules_24x7) == T0 + timedelta(minutes=60)
    assert due_at(T0, Priority.P4, rules_24x7, timedelta(minutes=30)) == T0 + timedelta(hours=24, minutes=30)


def test_due_at_counts_desk_hours_under_the_default_rules(rules) -> None:
    """Mon–Fri 08:00–18:00 UTC: 24 h of open time from Thursday 09:00 is Monday 13:00 (9 h Thu, 10 h
    Fri, 5 h Mon), and the paused 30 min of open time come on top."""
    assert due_at(T0, Priority.P1, rules) == T0 + timedelta(minutes=60)
    assert due_at(T0, Priority.P4, rules, timedelta(minutes=30)) == datetime(2026, 11, 30, 13, 30, tzinfo=UTC)


items = st.builds(
    lambda d, p, t, v, i: (T0 + timedelta(minutes=d), p, t, Decimal(v) / 100, i),
    st.integers(-600, 3000), st.sampled_from(list(Priority)), st.sampled_from(list(Tier)),
    st.integers(0, 10**7), st.integers(1, 10**6),
)


def test_countdown_stands_still_only_while_waiting_on_the_customer() -> None:
    due = (T0 + timedelta(minutes=30)).timestamp()
    later = T0 + timedelta(hours=2)
    for reason, moves in [(HoldReason.CUSTOMER_INFO, True), (HoldReason.CUSTOMER_REQUEST, True),
                          (HoldReason.STOCK, False), (HoldReason.CREDIT, False), (HoldReason.PRICING, False)]:
        row = {"due_at": due, "state": "on_hold", "hold_reason": reason.value, "hold_started_at": T0.timestamp()}
        left = effective_due(row, later, ALWAYS_OPEN) - later.timestamp()
        assert left == (30 * 60 if moves else 30 * 60 - 2 * 3600), reason
    queued = {"due_at": due, "state": "queued", "hold_reason": None, "hold_started_at": None}
    assert effective_due(queued, later, ALWAYS_OPEN) == due


@given(st.lists(items, min_size=2, max_size=40, unique_by=lambda x: x[4]))
def test_queue_order_is_total_and_earliest_deadline_first(xs) -> None:
    keys = [queue_key(*x) for x in xs]
    ordered = [x for _, x in sorted(zip(keys, xs), key=lambda kx: kx[0])]
    # total: distinct items never compare equal
    assert len(set(keys)) == len(keys)
    # EDF: due_at never decreases along the queue
    dues = [x[0] for x in ordered]
    assert dues == sorted(dues)
    # ties on due_at: class, then tier, then value (higher first)
    for a, b in zip(ordered, ordered[1:]):
        if a[0] == b[0]:
            assert (a[1].level, a[2].rank, -a[3]) <= (b[1].level, b[2].rank, -b[3])


def test_new_rush_overtakes_old_standard_until_old_nears_deadline(rules_24x7) -> None:
    rules = rules_24x7  # wall-clock ages: T0 − 7 h 30 min is before the desk opens
    old = T0 - timedelta(hours=6)  # standard P3, due in 2 h
    new = T0                       # rush P1, due in 1 h
    k_old = queue_key(due_at(old, Priority.P3, rules), Priority.P3, Tier.STANDARD, Decimal(10), 1)
    k_new = queue_key(due_at(new, Priority.P1, rules), Priority.P1, Tier.STANDARD, Decimal(10), 2)
    assert k_new < k_old
    older = T0 - timedelta(hours=7, minutes=30)  # due in 30 min: it now goes first
    k_older = queue_key(due_at(older, Priority.P3, rules), Priority.P3, Tier.STANDARD, Decimal(10), 3)
    assert k_older < k_new


def test_explanation_names_class_source_and_due(rules) -> None:
    lines = explain(priority=Priority.P2, priority_source="type standard → P3, key account raises to P2",
                    tier=Tier.KEY_ACCOUNT, total=Decimal("120.50"), due=T0 - timedelta(minutes=5), now=T0, cal=rules.calendar,
                    position=3)
    text = "\n".join(lines)
    assert "#3" in text and "key account raises to P2" in text and "overdue 5m" in text
    assert slack(T0 + timedelta(minutes=10), T0, rules.at_risk, rules.calendar) == Slack.AT_RISK


ACTIONS = list(machine.TRANSITIONS)


@given(st.lists(st.sampled_from(ACTIONS), max_size=30))
@settings(max_examples=300)
def test_no_command_sequence_reaches_a_forbidden_state(actions) -> None:
    allowed_edges = {(s, t) for _a, (srcs, t) in machine.TRANSITIONS.items() for s in srcs}
    state = OrderState.QUEUED
    for a in actions:
        try:
            nxt = machine.transition(state, a)
        except DomainError as e:
            assert state_label(state) in str(e) and "_" not in str(e)  # the refusal says why, in words
            continue
        assert (state, nxt) in allowed_edges
        assert not (state in (OrderState.SHIPPED, OrderState.CLOSED) and nxt == OrderState.CANCELLED)
        assert not (state == OrderState.CANCELLED)  # nothing leaves cancelled
        state = nxt


def test_release_guard_lists_missing_steps() -> None:
    with pytest.raises(DomainError, match="'credit checked'"):
        machine.guard_release(["confirm ship-to", "credit checked"], ["confirm ship-to"], 2)
    machine.guard_release(["a"], ["a"], 1)


def test_unhold_needs_note_and_credit_needs_supervisor(rules) -> None:
    with pytest.raises(DomainError, match="note"):
        machine.guard_unhold(HoldReason.PRICING, "  ", False, rules)
    with pytest.raises(DomainError, match="supervisor"):
        machine.guard_unhold(HoldReason.CREDIT, "paid", False, rules)
    machine.guard_unhold(HoldReason.CREDIT, "paid", True, rules)


def test_line_amounts_round_half_even_per_line() -> None:
    assert line_amount(1, Decimal("0.125")) == Decimal("0.12")
    assert line_amount(1, Decimal("0.135")) == Decimal("0.14")
    assert line_amount(3, Decimal("0.001")) == Decimal("0.00")
    assert line_amount(10, Decimal("19.99"), Decimal("15")) == Decimal("169.92")


def test_bad_rules_file_names_the_key() -> None:
    from db.config import default_rules_text

    text = default_rules_text().replace('priority = "P1"', 'priority = "P9"', 1)
    with pytest.raises(RulesError, match=r"request_types\.rush\.priority"):
        parse_rules(text, "rules.toml")
    with pytest.raises(RulesError, match="bogus.*unknown key"):
        parse_rules("bogus = 1\n" + default_rules_text(), "rules.toml")
    with pytest.raises(RulesError, match="not valid TOML"):
        parse_rules("[[[", "rules.toml")
