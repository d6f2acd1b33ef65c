"""Service and core additions for the order screens: look-ups, pricing typed lines, field rules, ticks."""
from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.lines import parse_discount, parse_qty
from core.lookup import complete, resolve
from db.service.orders import LineInput

CHOICES = [("C00001", "North Trading · standard"), ("C00012", "Blue Foods · repeat"), ("C00120", "Oak Gifts · key")]


def test_resolve_exact_prefix_number_and_words() -> None:
    assert resolve("c00012", CHOICES) == "C00012"
    assert resolve("C0012", CHOICES) == "C00120"  # the only code starting so
    assert resolve("C000", CHOICES) is None  # ambiguous prefix
    assert resolve("12", CHOICES) == "C00012"  # trailing number
    assert resolve("oak", CHOICES) == "C00120"
    assert resolve("trading north", CHOICES) == "C00001"
    assert resolve("o", CHOICES) is None and resolve("", CHOICES) is None
    assert complete("c0001", [c for c, _ in CHOICES]) == "C00012"


@pytest.mark.parametrize("text,msg", [("0", "more than 0"), ("-2", "more than 0"), ("1.5", "whole number"),
                                      ("x", "whole number"), ("", "whole number"), ("2000000", "implausibly")])
def test_parse_qty_refusals(text: str, msg: str) -> None:
    with pytest.raises(ValidationError, match=msg) as e:
        parse_qty(text)
    assert e.value.field == "qty"


def test_parse_qty_and_discount_ok() -> None:
    assert parse_qty(" +3 ") == 3
    assert str(parse_discount("")) == "0" and str(parse_discount("12.5")) == "12.5"
    for bad in ("101", "-1", "1.234", "abc"):
        with pytest.raises(ValidationError) as e:
            parse_discount(bad)
        assert e.value.field == "discount"


def test_catalog_lists_and_price_lines(desk_for, desk_db, orders_in) -> None:
    desk = desk_for(desk_db, "alice")
    custs = desk.catalog.customers()
    prods = desk.catalog.products()
    assert custs[0].code == "C00001" and len(custs) == 20 and len(prods) == 120
    assert desk.catalog.product("bev-0001").sku == "BEV-0001" and desk.catalog.customer("nope") is None
    before = orders_in(desk_db)
    priced = desk.catalog.price_lines([LineInput("BEV-0001", "2", "10")])
    assert priced[0]["amount_cents"] == round(2 * prods[0].price * 90)  # 10% off, to the cent
    with pytest.raises(ValidationError) as e:
        desk.catalog.price_lines([LineInput("BEV-0001", "1"), LineInput("BEV-0002", "0")])
    assert e.value.field == "lines.2.qty" and e.value.message.startswith("line 2: quantity")
    assert orders_in(desk_db) == before


def test_tick_bumps_version(desk_for, desk_db) -> None:
    """A tick changes no column but the version (this used to build `SET , version = …`)."""
    desk = desk_for(desk_db, "alice")
    got = desk.orders.claim_next()
    v = desk.orders.get(got.number).version
    step = desk.orders.get(got.number).checklist[0]
    desk.orders.tick(got.number, step, token=got.claim_token)
    o = desk.orders.get(got.number)
    assert o.ticked[step] == "alice" and o.version == v + 1


def test_untick_service_and_cli(desk_for, desk_db, cli) -> None:
    desk = desk_for(desk_db, "alice")
    got = desk.orders.claim_next()
    step = desk.orders.get(got.number).checklist[0]
    with pytest.raises(Exception, match="is not ticked"):
        desk.orders.untick(got.number, step, token=got.claim_token)
    desk.orders.tick(got.number, step, token=got.claim_token)
    desk.orders.untick(got.number, step, token=got.claim_token)
    assert step not in desk.orders.get(got.number).ticked
    assert [e.action for e in desk.orders.history(got.number)][-2:] == ["tick", "untick"]
    # bob cannot take back a tick on an order he does not hold: one line, exit 2
    p = cli("--db", str(desk_db), "untick", got.number, step, "--user", "bob")
    assert p.returncode == 2 and "claim" in p.stderr and "Traceback" not in p.stderr
