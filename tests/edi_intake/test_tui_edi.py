"""The order screen of an EDI order (Textual Pilot over a real database): the header names partner, PO
and interchange; `w` shows the message's original segments and the acknowledgments sent; the history
shows when the 997 went out; F4 maps an unknown partner code to a SKU, saved to the partner's xref,
and the order re-evaluates (the line appears, the reason goes)."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from tests.conftest import run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import deliver, rows, set_up_partner
from tests.tui_host import HostApp, press
from tui.screens.order import OrderScreen
from tui.widgets.edi_order_view import RawView
from tui.widgets.form_dialog import FormDialog
from tui.widgets.history_table import HistoryTable

ASCII1 = EDI / "x12" / "850-004010-ascii1.x12"
SIZE = (150, 48)


def _text(screen, selector: str) -> str:  # noqa: ANN001
    return str(screen.query_one(selector, Static).render())


async def test_edi_order_header_raw_view_history_and_f4_mapping(demo_db: Path, desk_for, tmp_path: Path) -> None:
    set_up_partner(desk_for(demo_db, None), ASCII1, tmp_path)
    run_cli("--db", str(demo_db), "import", str(ASCII1), check=True)
    deliver(demo_db)  # the 997 goes out through the delivery outbox; the history shows it once sent
    (o,) = rows(demo_db, "SELECT o.number FROM orders o JOIN edi_orders e ON e.order_id = o.id")
    number = o["number"]
    desk = desk_for(demo_db, "alice")
    desk.orders.unhold(number, "prices checked: ours stand")
    sku = rows(demo_db, "SELECT sku FROM products WHERE active = 1 ORDER BY sku LIMIT 1 OFFSET 7")[0]["sku"]
    app = HostApp(desk, lambda d: OrderScreen(d, number, None))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        head = _text(screen, "#order-header")
        assert "EDI from acme" in head and "PO 12345678" in head and "interchange 000000183" in head
        assert "3 unknown item code(s)" in head

        await press(pilot, "w")
        await pilot.pause()
        assert isinstance(app.screen, RawView)
        raw = str(app.screen.query_one("#edi-raw-segments", Static).render())
        assert raw.splitlines()[0].startswith("ST*850*") and "PO1*" in raw
        assert "997 1" in str(app.screen.query_one("#edi-raw-acks").render())
        await press(pilot, "escape")
        await pilot.pause()
        assert app.screen is screen

        await press(pilot, "l")
        await pilot.pause()
        hist = screen.query_one("#order-history", HistoryTable)
        cells = " ".join(str(c) for r in range(hist.row_count) for c in hist.get_row_at(r))
        assert "sent the 997 1 to the partner's outbox" in cells

        await press(pilot, "c")
        await pilot.pause()
        await press(pilot, "f4")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#f-code", Input).value == "UP:234567890123"
        await press(pilot, "enter", sku, "enter")
        await pilot.pause()
        assert app.screen is screen
        head = _text(screen, "#order-header")
        assert "2 unknown item code(s)" in head and "234567890123" not in head.split("Queued for a rep")[-1]
    assert rows(demo_db, "SELECT sku FROM edi_xref WHERE code = '234567890123'")[0]["sku"] == sku
    assert sku in [ln.sku for ln in desk.orders.get(number).lines]



#: segment text a partner (or anyone who can drop a file) controls and the parser lets through: Rich /
#: Textual markup, a live action, an unbalanced closing tag, a C1 CSI (0x9b), a bidi override, and CR,
#: LF and NEL line breaks followed by what would read as PO1 segments of their own
HOSTILE_NAME = ("[red]EVIL[/red] [@click=app.quit]x[/] [/b@x \x9b2J \u202eab"
                "\rPO1**99*CA*0.01**UP*FORGED\nPO1**98\x85PO1**97")


async def test_the_raw_view_shows_hostile_segment_text_as_plain_text(demo_db: Path, desk_for, tmp_path: Path) -> None:
    """An interchange whose N1 name carries markup, terminal escapes and line breaks: `w` shows the N1
    segment on one line, as text, each control character as its escape; no markup applied, no forged
    segment line, the app still running."""
    set_up_partner(desk_for(demo_db, None), ASCII1, tmp_path)
    hostile = tmp_path / "hostile.x12"
    hostile.write_bytes(ASCII1.read_bytes().replace(b"N1*BS**11*ABC123451~",
                                                   b"N1*BS*" + HOSTILE_NAME.encode() + b"*11*ABC123451~"))
    run_cli("--db", str(demo_db), "import", str(hostile), check=True)
    (o,) = rows(demo_db, "SELECT o.number FROM orders o JOIN edi_orders e ON e.order_id = o.id")
    app = HostApp(desk_for(demo_db, "alice"), lambda d: OrderScreen(d, o["number"], None))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "w")
        await pilot.pause()
        assert isinstance(app.screen, RawView)
        segments = app.screen.query_one("#edi-raw-segments", Static)
        lines = [strip.text.rstrip() for strip in segments.render_lines(segments.region.reset_offset)]
        assert [ln.split("*", 1)[0] for ln in lines if ln] == ["ST", "BEG", "N1", "PO1", "PO1", "PO1", "PO1",
                                                              "CTT", "SE"]  # the four real PO1s, no forged one
        (n1,) = [ln for ln in lines if ln.startswith("N1*")]
        assert n1 == ("N1*BS*[red]EVIL[/red] [@click=app.quit]x[/] [/b@x \\x9b2J \\u202eab"
                      "\\x0dPO1**99*CA*0.01**UP*FORGED\\nPO1**98\\x85PO1**97*11*ABC123451")
        assert not segments.render().spans  # no style from the partner's text
        await press(pilot, "escape")
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, RawView)
