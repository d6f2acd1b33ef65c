"""The pure part of intake: exact amounts, UK time, invoice planning, cancellation allocation."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from core.intake import (
    Reject, allocate, amount_cents, invoice_seq, local_to_utc, parse_retail_row, plan_invoice, price_e4,
)
from core.money import line_amount, to_cents_int

UK = ZoneInfo("Europe/London")


@given(st.integers(1, 100_000), st.integers(0, 10**9), st.integers(0, 10_000))
def test_integer_amount_is_core_money_line_amount(qty: int, p_e4: int, disc_e2: int) -> None:
    want = to_cents_int(line_amount(qty, Decimal(p_e4) / 10000, Decimal(disc_e2) / 100))
    assert amount_cents(qty, p_e4, disc_e2) == want


def test_prices_keep_four_places_and_refuse_more() -> None:
    assert price_e4("0.001") == 10 and price_e4("2.55") == 25500 and price_e4("-11062.06") == -110620600
    for bad in ("1.23456", "abc", "nan"):
        try:
            price_e4(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_uk_local_time_becomes_utc_across_summer_time() -> None:
    assert local_to_utc("2010-12-01 08:26:00", UK) == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert local_to_utc("2011-07-01 10:00:00", UK) == datetime(2011, 7, 1, 9, 0, tzinfo=UTC)


def _line(row: int, inv: str, sku: str, qty: int, price: str = "1.00", cust: str = "123"):  # noqa: ANN202
    got = parse_retail_row(row, [inv, sku, "x", str(qty), "2011-01-05 10:00", price, cust, "UK"], UK)
    assert not isinstance(got, Reject)
    return got


def test_plan_splits_goods_charges_and_rejects_with_reasons() -> None:
    plan = plan_invoice([_line(2, "500", "A1", 2), _line(3, "500", "POST", 1, "18"), _line(4, "500", "A2", -3),
                         _line(5, "500", "m", 1, "5")])
    assert [g.sku for g in plan.goods] == ["A1"] and [c.sku for c in plan.charges] == ["POST", "M"]
    assert [(r.row, r.reason) for r in plan.rejects] == [(4, "negative-quantity")]
    # charges only: a known customer's are an order of charges (revenue); a guest's have no one to bill
    mine = plan_invoice([_line(2, "501", "M", 1, "18"), _line(3, "501", "AMAZONFEE", 1, "5")])
    assert [c.sku for c in mine.charges] == ["M", "AMAZONFEE"] and not mine.goods and not mine.rejects
    guest = plan_invoice([_line(2, "502", "POST", 1, "18", cust="")])
    assert not guest.charges and [r.reason for r in guest.rejects] == ["charges-only-invoice"]
    c = plan_invoice([_line(2, "C9", "A1", -1), _line(3, "C9", "POST", -1), _line(4, "C9", "A1", -1, cust="")])
    assert c.cancellation and [g.row for g in c.goods] == [2]
    assert [r.reason for r in c.rejects] == ["cancelled-charge", "cancellation-no-customer"]
    a = plan_invoice([_line(2, "A563185", "B", 1, "11062.06", cust="")])
    assert [r.reason for r in a.rejects] == ["bad-debt-adjustment"]
    bad = parse_retail_row(7, ["1", "X", "d", "one", "2011-01-01 10:00", "1", "", "UK"], UK)
    assert isinstance(bad, Reject) and bad.reason == "bad-row" and bad.row == 7


def test_allocate_takes_what_it_can_most_recent_first_and_says_what_is_left() -> None:
    assert allocate(5, [(9, 3), (4, 10)]) == ([(9, 3), (4, 2)], 0)
    assert allocate(5, [(9, 3), (4, 0), (2, 1)]) == ([(9, 3), (2, 1)], 1)
    assert allocate(1, []) == ([], 1)


def test_invoice_numbers_order_a_minute() -> None:
    assert invoice_seq("C536379") == 536379 > invoice_seq("536378") and invoice_seq("") == 0
