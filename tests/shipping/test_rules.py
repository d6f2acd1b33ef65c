"""core.shipping's rules on plain numbers: what a shipment may take, and who gets incoming stock."""
from __future__ import annotations

import pytest

from core import orders as machine
from core.enums import OrderState
from core.errors import DomainError, ValidationError
from core.shipping import LineProgress, all_shipped, allocate, parse_ship_line, plan_shipment

LINES = [LineProgress(1, "A", 2, 2, 0), LineProgress(2, "B", 3, 3, 1), LineProgress(3, "Z", 4, 1, 0)]


def test_no_lines_means_the_whole_rest_and_refuses_what_is_on_backorder() -> None:
    with pytest.raises(DomainError, match=r"line 3 \(Z\): only 1 of the 4 left are in stock, 3 on backorder"):
        plan_shipment(LINES, None, ship_complete=False)
    assert plan_shipment(LINES[:2], None, ship_complete=False) == {1: 2, 2: 2}


def test_a_line_ships_no_more_than_is_left_on_it() -> None:
    with pytest.raises(ValidationError, match=r"line 2 \(B\): ships 3 but only 2 of 3 are left") as e:
        plan_shipment(LINES, {2: 3}, ship_complete=False)
    assert e.value.field == "lines.2.qty"
    with pytest.raises(ValidationError, match="lines 1–3 only"):
        plan_shipment(LINES, {4: 1}, ship_complete=False)
    plan = plan_shipment(LINES, {1: 2, 3: 1}, ship_complete=False)
    assert plan == {1: 2, 3: 1} and not all_shipped(LINES, plan)


def test_ship_complete_takes_one_shipment_with_everything() -> None:
    with pytest.raises(DomainError, match="C9 takes complete shipments only: this would leave line 2 .B. 2 more"):
        plan_shipment(LINES[:2], {1: 2}, ship_complete=True, customer="C9")
    assert all_shipped(LINES[:2], plan_shipment(LINES[:2], None, ship_complete=True))


def test_stock_goes_to_needs_in_the_order_given_earliest_first() -> None:
    given = allocate([("early", "Z", 3), ("late", "Z", 4), ("other", "A", 1), ("again", "Z", 1)], {"Z": 4, "A": 0})
    assert given == {"early": 3, "late": 1}


@pytest.mark.parametrize("text", ["3", "a:1", "1:0", "0:2", "1:2:3", ""])
def test_parse_ship_line_refuses_what_is_not_line_no_qty(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_ship_line(text)


def test_backordered_ships_on_to_shipped_and_can_be_cancelled_but_not_closed() -> None:
    assert machine.transition(OrderState.RELEASED, "ship_part") == OrderState.BACKORDERED
    assert machine.transition(OrderState.BACKORDERED, "ship") == OrderState.SHIPPED
    assert machine.transition(OrderState.BACKORDERED, "cancel") == OrderState.CANCELLED
    with pytest.raises(DomainError, match="this order is backordered; only an order that is .* can be closed"):
        machine.transition(OrderState.BACKORDERED, "close")
    with pytest.raises(DomainError, match="this order is queued; only an order that is .* can be shipped"):
        machine.transition(OrderState.QUEUED, "ship")
