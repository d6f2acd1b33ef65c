"""Keyboard-only order entry: minimum keystrokes, validation next to the field, automatic holds."""
from __future__ import annotations


from textual.widgets import Input, Label

from tests.tui_host import HostApp, grouped, press
from tui.screens.entry import EntryScreen
from tui.widgets.entry_result import EntryResult
from tui.widgets.line_row import LineRow
from tui.widgets.prompt_list import PromptList
from tests.conftest import connect_db

SIZE = (120, 40)


def phone_order_keys(customer: str, lines: list[tuple[str, str, str]]) -> list[str]:
    """The keys a rep presses: each field's characters, Enter after each field (the header's ship-to and
    PO left as they are: the default ship-to, no PO), Enter on the blank SKU."""
    keys = [*customer, "enter", "enter", "enter"]
    for sku, qty, disc in lines:
        keys += [*sku, "enter", *qty, "enter", *disc, "enter"]
    keys.append("enter")  # blank SKU on the new line: done, submit
    return keys


FIVE_LINES = [("BEV-0001", "2", ""), ("HOM-0021", "10", ""), ("STA-0041", "1", "5"), ("TOO-0061", "3", ""),
              ("GAR-0081", "12", "")]


async def test_five_line_phone_order_keystrokes(desk_for, desk_db, orders_in) -> None:
    desk = desk_for(desk_db, "alice")
    before = orders_in(desk_db)
    app = HostApp(desk, EntryScreen)
    keys = phone_order_keys("C00001", FIVE_LINES)
    data_chars = len("C00001") + sum(len(s) + len(q) + len(d) for s, q, d in FIVE_LINES)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, *grouped(keys))
        await pilot.pause()
        assert isinstance(app.screen, EntryResult), app.screen
        text = " ".join(str(w.render()) for w in app.screen.query(Label))
        assert "created for C00001" in text and "class P3" in text and "due " in text
    assert orders_in(desk_db) == before + 1
    conn = connect_db(desk_db)
    row = conn.execute("SELECT id, channel, type FROM orders ORDER BY id DESC LIMIT 1").fetchone()
    lines = conn.execute("SELECT sku, qty, discount_e2 FROM order_lines WHERE order_id = ? ORDER BY line_no",
                         (row[0],)).fetchall()
    conn.close()
    assert row[1:] == ("phone", "standard")
    assert lines == [(s, int(q), int(d or 0) * 100) for s, q, d in FIVE_LINES]
    extra = len(keys) - data_chars
    print(f"\n5-line phone order: {len(keys)} keys = {data_chars} data characters + {extra} Enter keys "
          f"(one per field, one to finish)")
    # one Enter per field (customer, ship-to, PO + 3 per line) and one to finish: nothing else
    assert extra == 3 + 3 * len(FIVE_LINES) + 1


async def test_short_codes_resolve(desk_for, desk_db, orders_in) -> None:
    """Type-ahead: a unique number picks the code ('1' → C00001, '81' → GAR-0081): the same order, fewer keys."""
    desk = desk_for(desk_db, "alice")
    before = orders_in(desk_db)
    app = HostApp(desk, EntryScreen)
    short = [(str(int(s[-4:])), q, d) for s, q, d in FIVE_LINES]
    keys = phone_order_keys("1", short)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await press(pilot, *grouped(keys))
        await pilot.pause()
        assert isinstance(app.screen, EntryResult)
        o = app.screen.order
    assert orders_in(desk_db) == before + 1
    assert o.customer.code == "C00001" and [ln.sku for ln in o.lines] == [s for s, _, _ in FIVE_LINES]
    data_chars = 1 + sum(len(s) + len(q) + len(d) for s, q, d in short)
    print(f"\n5-line phone order with short codes: {len(keys)} keys = {data_chars} data characters"
          f" + {len(keys) - data_chars} Enter keys")


async def test_validation_next_to_field_nothing_written(desk_for, desk_db, orders_in) -> None:
    desk = desk_for(desk_db, "alice")
    before = orders_in(desk_db)
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "C00001", "enter", "enter", "enter", "BEV-0001", "enter", "0")
        await pilot.pause()
        row = screen.query(LineRow).first()
        err = str(row.info_label.render())
        assert "quantity must be more than 0" in err and row.has_class("-error")
        await press(pilot, "enter")  # refused: stays on qty
        assert screen.focused is row.qty_input
        await press(pilot, "backspace", "3", "enter", "150")
        await pilot.pause()
        err = str(row.info_label.render())
        assert "discount must be 0 to 100" in err and "quantity" not in err
        await press(pilot, "ctrl+s")
        await pilot.pause()
        assert app.screen is screen and screen.focused is row.disc_input
        # an unknown SKU on a second line: F4 list opens with what was typed
        await press(pilot, "backspace", "backspace", "backspace", "enter", "NOPE", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptList)
        await press(pilot, "escape")
        await pilot.pause()
        await press(pilot, "ctrl+s")
        await pilot.pause()
        rows = list(screen.query(LineRow))
        assert "unknown SKU 'NOPE'" in str(rows[1].info_label.render())
        assert orders_in(desk_db) == before
        # unknown customer shown next to the customer field
        screen.customer_input.value = "nobody at all"
        await pilot.pause()
        await press(pilot, "ctrl+s")
        await pilot.pause()
        assert "unknown customer" in str(screen.query_one("#entry-customer-error", Label).render())
        assert screen.focused is screen.customer_input
    assert orders_in(desk_db) == before


async def test_credit_hold_on_entry(desk_for, desk_db) -> None:
    """C00002: limit 10,000.00, balance 8,000.00; a 2,499.90 order goes on a credit hold, and says why."""
    desk = desk_for(desk_db, "alice")
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "C00002", "enter", "enter", "enter", "BEV-0005", "enter", "10", "enter", "enter")
        await pilot.pause()
        totals = str(screen.query_one("#entry-totals").render())
        assert "over credit limit by 499.90" in totals
        await press(pilot, "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryResult)
        text = " ".join(str(w.render()) for w in app.screen.query(Label))
        assert "ON HOLD (credit)" in text and "exceeds credit limit" in text and "supervisor" in text
        number = app.screen.order.number
        await press(pilot, "enter")  # next order: a fresh form
        await pilot.pause()
        assert app.screen is screen and screen.customer_input.value == "" and screen.focused is screen.customer_input
    o = desk.orders.get(number)
    assert o.state.value == "on_hold" and o.hold_reason.value == "credit"


async def test_channel_type_keys_and_f4_customer(desk_for, desk_db) -> None:
    desk = desk_for(desk_db, "alice")
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "f5", "f5", "f6")  # phone → fax → email; standard → next type
        await press(pilot, "f4")
        await pilot.pause()
        assert isinstance(app.screen, PromptList)
        await press(pilot, "C00003", "enter")
        await pilot.pause()
        assert screen.customer is not None and screen.customer.code == "C00003"
        assert isinstance(screen.focused, Input) and screen.focused.id == "hdr-ship-to"  # the header comes next
        await press(pilot, "enter", "enter")  # default ship-to, no PO: on to the lines
        assert isinstance(screen.focused, Input) and "ln-sku" in screen.focused.classes
        rows = list(screen.query(LineRow))
        await press(pilot, "down", "down", "up")  # up/down: the same field a line above or below
        assert screen.focused is rows[1].sku_input
        await press(pilot, "up")
        await press(pilot, "BEV-0002", "enter", "1", "enter", "enter", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EntryResult)
        o = app.screen.order
    assert o.channel.value == "email" and o.type != "standard"


async def test_stock_hold_on_entry(desk_for, desk_db) -> None:
    """STA-0057 has fewer than 500 in stock: the line warns as it is typed, and the order goes on a stock hold."""
    with connect_db(desk_db) as c:
        have = c.execute("SELECT stock FROM products WHERE sku = 'STA-0057'").fetchone()[0]
    assert have < 500
    desk = desk_for(desk_db, "alice")
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "C00001", "enter", "enter", "enter", "STA-0057", "enter", "500")
        row = screen.query(LineRow).first()
        assert f"only {have} in stock: stock hold" in str(row.info_label.render())
        await press(pilot, "enter", "enter", "enter")
        assert isinstance(app.screen, EntryResult)
        text = " ".join(str(w.render()) for w in app.screen.query(Label))
        assert "ON HOLD (stock)" in text and f"STA-0057 needs 500, {have} available" in text


async def test_escape_asks_before_discarding(desk_for, desk_db, orders_in) -> None:
    from tui.widgets.note_dialog import Confirm

    desk = desk_for(desk_db, "alice")
    before = orders_in(desk_db)
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "C00001", "enter", "enter", "enter", "BEV-0001", "escape")
        assert isinstance(app.screen, Confirm)
        await press(pilot, "escape")  # keep typing: nothing lost
        assert app.screen is screen and screen.grid.rows[0].sku_input.value == "BEV-0001"
        await press(pilot, "escape", "enter")
        assert not isinstance(app.screen, (EntryScreen, Confirm))
    assert orders_in(desk_db) == before


async def test_type_ahead_burst_lands_in_the_right_fields(desk_for, desk_db, orders_in) -> None:
    """The whole 5-line order arriving in one burst (keys typed ahead of the screen) still lands field by field."""
    from tests.tui_host import burst

    desk = desk_for(desk_db, "alice")
    before = orders_in(desk_db)
    app = HostApp(desk, EntryScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await burst(pilot, phone_order_keys("C00001", FIVE_LINES))
        for _ in range(50):
            if isinstance(app.screen, EntryResult):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, EntryResult), app.notes
        o = app.screen.order
    assert orders_in(desk_db) == before + 1
    assert [(ln.sku, ln.qty) for ln in o.lines] == [(s, int(q)) for s, q, _ in FIVE_LINES]
    assert str(o.lines[2].discount_pct) == "5.00"
