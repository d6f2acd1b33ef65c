"""Hostile user text: markup, `[@click=…]` actions, terminal escapes, bidi overrides, 10k characters.

Arbitrary text goes into every free-text field a user or a file can fill (customer name and
product description through an import, order note, hold note, return note and line note, reject
reason), through the service layer. Then every screen opens on it with Pilot: the app keeps
running, the text appears literally (controls shown as escapes, `core.plain_text.printable`), and
no ESC or C1 byte reaches the composited screen. The CLI shows the same data with no ESC byte.
"""
from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable, Label, Static

from core.plain_text import json_controls_escaped, printable
from db.service import Desk
from db.service.orders import LineInput
from db.service.returns import ReturnLineInput
from db.store import Store
from tests.conftest import copy_db, run_cli
from tests.prove.conftest import fingerprint

PIECES = ["[/]", "[bold", "[b]", "[/b]", "[@click=app.quit]", "[@click=app.bell]x[/]", "[$accent]", "[on red]",
          "\\", "$name", "\x1b[2J", "\x1b]0;title\x07", "\x1b[31m", "\x9b2J", "\u202e", "\u2066", "\u200f", "\r",
          "\x08", "\t", "\n", "\x7f", "é", "日本", "שלום", " ", "x"]
HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), min_size=1, max_size=8).map(
    lambda parts: "N " + "".join(parts))  # starts with a letter: required fields are not blank
LONG = "[/] \x1b[2J \u202e " * 700  # 10k characters
SIZE = (140, 45)


def csv_safe(text: str) -> str:
    """A CSV field cannot hold NUL; everything else goes in as it is."""
    return text.replace("\x00", "")


def northwind_folder(path: Path, name: str, description: str) -> Path:
    """A two-order Northwind export of our own: one customer and one product carrying the hostile
    text, one order shipped two days ago (to return), one still open."""
    path.mkdir()
    day = datetime.now(UTC) - timedelta(days=2)
    stamp = f"{day:%Y-%m-%d %H:%M:%S}.000"
    tables = {
        "customers.csv": (["customerID", "companyName", "country"], [["EVILC", csv_safe(name), "Germany"]]),
        "products.csv": (["productID", "productName", "categoryID", "unitPrice", "unitsInStock", "discontinued"],
                         [["1", csv_safe(description), "1", "12.50", "500", "0"]]),
        "orders.csv": (["orderID", "customerID", "orderDate", "shippedDate", "freight"],
                       [["1", "EVILC", stamp, stamp, "0"]]),
        "order-details.csv": (["orderID", "productID", "unitPrice", "quantity", "discount"],
                              [["1", "1", "12.50", "3", "0"]]),
    }
    for file, (head, rows) in tables.items():
        with open(path / file, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows(rows)
    return path


@pytest.fixture
def template(_demo_template: Path) -> Path:
    """The shared demo database (users, and neighbours for the queue and the wallboard)."""
    return _demo_template


def seed(db: Path, work: Path, text: str) -> dict[str, str]:
    """Put `text` in every free-text field, through the service layer; what was stored, by field."""
    store = Store.open(db)
    try:
        Desk.operator(store).intake.import_file(northwind_folder(work / "nw", text, text))
        shipped = store.conn.execute("SELECT number FROM orders WHERE source_ref = 'NW-1'").fetchone()[0]
        alice = Desk.for_user(store, "alice")
        live = alice.orders.create(customer="EVILC", channel="phone", type="standard", note=text,
                                   lines=[LineInput(sku="NW-1", qty="2")]).number
        alice.orders.claim(live)
        alice.orders.hold(live, "customer_info", text, token=alice.orders.get(live).claim_token)
        carol = Desk.for_user(store, "carol")
        kept = carol.returns.new(lines=[ReturnLineInput(sku="NW-1", qty=1, reason="damaged", order=shipped, note=text)],
                                 resolution="refund", note=text)["number"]
        refused = carol.returns.new(lines=[ReturnLineInput(sku="NW-1", qty=1, reason="other", order=shipped)],
                                    resolution="refund", note=text)["number"]
        carol.returns.reject(refused, text)
        o = alice.orders.get(live)
        return {"live": live, "kept": kept, "refused": refused, "name": o.customer.name,
                "description": o.lines[0].description, "hold_note": o.hold_note or "",
                "return_note": carol.returns.detail(kept)["note"] or "",
                "rejected": carol.returns.detail(refused)["rejected_reason"] or ""}
    finally:
        store.close()


def shown_text(screen) -> str:  # noqa: ANN001
    """Every Static/Label's text and every DataTable cell of a screen, as the widgets hold them."""
    parts = [str(w.render()) for w in screen.query(Static)] + [str(w.render()) for w in screen.query(Label)]
    for t in screen.query(DataTable):
        for i in range(t.row_count):
            parts += [str(c) for c in t.get_row_at(i)]
    return "\n".join(parts)


def assert_clean_paint(app) -> None:  # noqa: ANN001
    """The whole composited screen (toasts included) holds no byte a terminal would act on."""
    assert app.is_running
    svg = app.export_screenshot()
    for bad in ("\x1b", "\x9b", "\x07", "\u202e"):
        assert bad not in svg, f"{bad!r} reached the screen"


async def visit(db: Path, v: dict[str, str]) -> None:
    from tui.app import OrderqApp
    from tui.screens.entry import EntryScreen
    from tui.screens.help import HelpScreen
    from tui.screens.order import OrderScreen
    from tui.screens.queue import QueueScreen
    from tui.screens.return_process import ReturnProcessScreen
    from tui.screens.returns import ReturnsScreen
    from tui.screens.wallboard import WallboardScreen
    from tui.widgets.prompt_list import PromptList

    name, desc = printable(v["name"]), printable(v["description"], multiline=False)
    desk = Desk.open(db, "sam")
    app = OrderqApp(desk, feed=False, keymap={}, session=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen)
            await pilot.press("slash")  # search the queue for the hostile customer
            await pilot.press(*"EVILC", "enter")
            await pilot.pause()
            assert_clean_paint(app)

            app.push_screen(OrderScreen(desk, v["live"]))
            await pilot.pause()
            await pilot.press("l")  # the history, with the hold note in it
            await pilot.pause()
            text = shown_text(app.screen)
            assert name in text and printable(v["hold_note"]) in text and desc in text
            assert printable(v["hold_note"], multiline=False) in text  # the history's line
            assert_clean_paint(app)
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert_clean_paint(app)
            await pilot.press("escape")
            await pilot.press("h")  # the hold-reason prompt list
            await pilot.pause()
            assert isinstance(app.screen, PromptList)
            await pilot.press("escape")
            await pilot.pause()

            app.push_screen(EntryScreen(desk))
            await pilot.pause()
            await pilot.press(*"EVILC", "tab")
            await pilot.pause()
            assert name[:20] in shown_text(app.screen)
            assert_clean_paint(app)

            app.push_screen(ReturnsScreen(desk))
            await pilot.pause()
            assert_clean_paint(app)
            for number, want in ((v["kept"], v["return_note"]), (v["refused"], v["rejected"])):
                app.push_screen(ReturnProcessScreen(desk, number))
                await pilot.pause()
                text = shown_text(app.screen)
                assert printable(want) in text and desc in text
                assert_clean_paint(app)

            app.push_screen(WallboardScreen(desk))
            await pilot.pause()
            assert_clean_paint(app)
            app.notify(v["hold_note"], title=v["name"])  # a toast quoting user text
            await pilot.pause()
            assert_clean_paint(app)
    finally:
        desk.store.close()


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@example(text="x [/]")
@example(text="N [@click=app.quit]quit[/] \x1b[2J\x1b]0;owned\x07 \u202eevil")
@example(text=LONG)
@given(text=HOSTILE)
def test_hostile_text_in_every_field_renders_literally_on_every_screen(template: Path, tmp_path: Path,
                                                                       text: str) -> None:
    work = tmp_path / f"ex{abs(hash(text)) % 10**9}"
    work.mkdir()
    db = copy_db(template, work / "desk.db")
    stored = seed(db, work, text)
    asyncio.run(visit(db, stored))


def test_order_show_prints_no_escape_byte(template: Path, tmp_path: Path) -> None:
    """`order show`, `order list`, `return show`, `events`: escapes in notes arrive as text, not as
    commands to the terminal; `--json` keeps the exact value."""
    db = copy_db(template, tmp_path / "desk.db")
    evil = "N \x1b[2J\x1b]0;owned\x07\x1b[31m red \x9b2J \u202eevil\r\x08"
    v = seed(db, tmp_path, evil)
    for args in (("order", "show", v["live"], "--user", "sam"), ("order", "list", "--user", "sam"),
                 ("return", "show", v["kept"], "--user", "sam"), ("return", "list", "--user", "sam"),
                 ("events",), ("order", "show", "NOPE\x1b[2J", "--user", "sam")):
        p = run_cli("--db", str(db), *args)
        out = p.stdout + p.stderr
        for bad in ("\x1b", "\x9b", "\x07", "\u202e", "\r", "\x08"):
            assert bad not in out, f"orderq {' '.join(args)} printed {bad!r}"
    shown = run_cli("--db", str(db), "order", "show", v["live"], "--user", "sam", check=True).stdout
    assert printable(v["hold_note"]) in shown  # the note is there, as text
    raw = run_cli("--db", str(db), "order", "show", v["live"], "--user", "sam", "--json", check=True).stdout
    assert "\x1b" not in raw and "\x9b" not in raw and "\u202e" not in raw
    assert json.loads(raw)["hold_note"] == v["hold_note"]  # the exact value, through JSON escapes


TERMINAL_CONTROLS = {*map(chr, range(0x00, 0x20)), *map(chr, range(0x7F, 0xA0)), "\u061c", "\u200e", "\u200f",
                     *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u2028", "\u2029"}


@given(text=st.one_of(HOSTILE, st.text()))
def test_printable_leaves_no_control_and_json_stays_exact(text: str) -> None:
    """What every face builds on: no control survives `printable` (a table cell keeps no newline
    or tab either), and the CLI's JSON carries the exact text with nothing a terminal acts on."""
    assert not set(printable(text)) & (TERMINAL_CONTROLS - {"\n", "\t"})
    assert not set(printable(text, multiline=False)) & TERMINAL_CONTROLS
    dumped = json_controls_escaped(json.dumps({"note": text}, ensure_ascii=False))
    assert not set(dumped) & TERMINAL_CONTROLS and json.loads(dumped)["note"] == text


def _orderq_bytes(db: Path, *args: bytes, stream: str) -> subprocess.CompletedProcess[bytes]:
    """The real `orderq` with arguments given as bytes: what a shell passes for `$'A\\x9b'`; `stream`:
    its stdout's encoding and errors (strict, as under a UTF-8 locale such as en_US.UTF-8)."""
    exe = Path(sys.executable).parent / "orderq"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")} | {"LC_ALL": "C.UTF-8",
                                                                               "PYTHONIOENCODING": stream}
    return subprocess.run([str(exe), "--db", str(db), *args], capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("stream", ["utf-8:surrogateescape", "utf-8:strict"])
def test_an_argument_that_is_not_utf8_is_refused_and_never_printed_raw(template: Path, tmp_path: Path,
                                                                       stream: str) -> None:
    """A note, customer or SKU holding bytes that are not UTF-8 (`--note $'A\\x9b2J'`) ended in a
    traceback (SQLite cannot store the lone surrogate Python decodes it to). It is refused in one line,
    exit 2; a file name that is not UTF-8 still works, and is shown with the byte as `\\x9b`, never
    the raw byte (CSI on an 8-bit terminal)."""
    db = copy_db(template, tmp_path / "desk.db")
    before = db.read_bytes() if isinstance(db, Path) else fingerprint(db)  # PostgreSQL: no file, its rows
    for args in ([b"order", b"new", b"--user", b"alice", b"--customer", b"C00006", b"--line", b"GAR-0090:1",
                  b"--note", b"A\x9b2J"],
                 [b"order", b"new", b"--user", b"alice", b"--customer", b"x\xff", b"--line", b"GAR-0090:1"],
                 [b"unhold", b"SO-000001", b"--user", b"sam", b"--note", b"\xe9"]):
        p = _orderq_bytes(db, *args, stream=stream)
        assert p.returncode == 2, p.stderr
        assert len(p.stderr.splitlines()) == 1 and b"not UTF-8" in p.stderr, p.stderr
        assert b"\x9b" not in p.stderr + p.stdout
    assert (db.read_bytes() if isinstance(db, Path) else fingerprint(db)) == before
    odd = tmp_path / "c\udc9b.csv"  # the file name b"c\x9b.csv"
    odd.write_text("order_ref,customer,sku,qty\nH1,NOBODY,NOSKU,1\n", encoding="utf-8")
    p = _orderq_bytes(db, b"import", os.fsencode(odd), b"--rejects", os.fsencode(tmp_path / "r.csv"), stream=stream)
    assert p.returncode == 0, p.stderr
    assert b"\x9b" not in p.stdout + p.stderr and b"c\\x9b.csv" in p.stdout
