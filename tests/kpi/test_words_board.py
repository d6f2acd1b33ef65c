"""The supervisor's words: the breach list, the override and reassign forms, rep-handled cycle time,
and the HTML report's colours and hours.

Before: breached holds read "held by —" with a customer code and a dozen empty rows under them;
the override form's grey "P1" looked typed, an empty submit named `--priority`, errors stayed after
a fix, and there was no due field; reassign had no list of reps and its refusal was cut off; cycle
time p50 read 0:00 with touchless orders about; every class bar was the same red, and the hourly
chart ran on into hours that had not happened.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable, Input, Label

from db.service import Desk
from db.service.orders import LineInput
from tests.kpi.test_wallboard import board, digits, form, type_text, until
from tui.screens.wallboard import WallboardScreen
from tui.widgets.form_dialog import FormDialog
from tui.widgets.prompt_list import PromptList

WINDOW = ("--since", "2026-11-26T00:00:00Z", "--until", "2026-11-27T00:00:00Z")
REPORT_NOW = ("--now", "2026-11-26T11:10:00Z")


def drawn(widget) -> str:  # noqa: ANN001
    """A widget as drawn on screen, its wrapped lines joined back into one run of words."""
    return " ".join(" ".join(s.text for s in widget.render_lines(widget.region.reset_offset)).split())


@contextmanager
def desk_of(path: Path, user: str, clock) -> Iterator[Desk]:  # noqa: ANN001
    d = Desk.open(path, user, clock=clock)
    try:
        yield d
    finally:
        d.store.close()


def hold_the_breach(path: Path, clock, number: str) -> None:  # noqa: ANN001
    with desk_of(path, "sam", clock) as sam:
        sam.orders.hold(number, "stock", "waiting on the supplier")


def add_touchless(path: Path, clock, n: int) -> None:  # noqa: ANN001
    """Online orders that go straight through: released at once, cycle time 0."""
    with desk_of(path, "alice", clock) as alice:
        for _ in range(n):
            alice.orders.create(customer="C1", channel="online", type="standard", lines=[LineInput("A-1", 1)])


async def test_breach_list_names_the_hold_and_the_customer_and_fits_its_rows(kpi_day, clock) -> None:  # noqa: ANN001
    path, n = kpi_day
    hold_the_breach(path, clock, n["O0"])
    async with board(path, "sam", clock, size=(160, 50)) as (app, _pilot):
        table = app.screen.query_one("#items", DataTable)
        row = [str(c) for c in table.get_row(n["O0"])]
        assert "hold: stock" in row and "Cedar Foods" in row and "—" not in row, row
        assert table.row_count == 2 and table.region.height == table.row_count + 1


async def test_override_form_hints_in_words_explains_an_empty_submit_and_sets_a_due_time(kpi_day, clock) -> None:  # noqa: ANN001
    path, n = kpi_day
    async with board(path, "sam", clock, size=(120, 40)) as (app, pilot):
        app.screen.query_one("#items", DataTable).move_cursor(row=0)
        await form(app, pilot, "o", "", "", "")  # nothing typed: enter through the three fields
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        klass = dialog.query_one("#f-priority", Input)
        assert not re.fullmatch(r"P[1-4]", klass.placeholder.strip()) and "P1" in klass.placeholder
        said = drawn(dialog.query_one("#e-priority", Label))
        assert said == "give a class, a due time, or both" and "--" not in said
        await type_text(pilot, "p")  # the field being fixed: its message goes
        await pilot.pause()
        assert drawn(dialog.query_one("#e-priority", Label)) == ""
        await pilot.press("backspace", "enter")
        await type_text(pilot, "+2h")
        await pilot.press("enter")
        await type_text(pilot, "customer called")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WallboardScreen))
    with desk_of(path, "sam", clock) as check:
        got = check.orders.get(n["O0"])
    assert got.due_at == clock() + timedelta(hours=2) and "customer called" in got.priority_source


async def test_reassign_lists_reps_on_f4_and_a_refusal_is_shown_whole(kpi_day, clock) -> None:  # noqa: ANN001
    path, n = kpi_day
    hold_the_breach(path, clock, n["O0"])
    async with board(path, "sam", clock, size=(120, 40)) as (app, pilot):
        items = app.screen.query_one("#items", DataTable)
        items.move_cursor(row=items.get_row_index(n["O0"]))
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, PromptList))
        listed = [v for v, _ in app.screen.items]
        assert {"alice", "bob", "sam"} <= set(listed) and "carol" not in listed and "admin" not in listed
        await type_text(pilot, "bob")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        assert dialog.query_one("#f-to", Input).value == "bob"
        await pilot.press("enter", "enter")  # to the reason (optional), then submit
        await pilot.pause(0.1)
        said = drawn(dialog.query_one("#e-form", Label))
        assert said == f"{n['O0']} is on hold; only a queued or claimed order can be reassigned", said


async def test_wallboard_tiles_show_the_cycle_time_of_rep_handled_orders(kpi_day, clock) -> None:  # noqa: ANN001
    path, _ = kpi_day
    add_touchless(path, clock, 3)  # with O1, four releases at 0 s against two by reps
    async with board(path, "sam", clock) as (app, _pilot):
        assert app.screen.data.report["orders"]["cycle_time_p50_s"] == 0.0
        assert digits(app, "p50") == "0:40" and digits(app, "p90") == "1:30"  # O2 40 min, O3 90 min


def test_report_text_and_html_show_rep_handled_cycle_time(kpi_day, clock, cli, tmp_path: Path) -> None:  # noqa: ANN001
    path, _ = kpi_day
    add_touchless(path, clock, 3)
    out = tmp_path / "r.html"
    cli("--db", str(path), *REPORT_NOW, "kpi", *WINDOW, "--html", str(out), check=True, env={"TZ": "UTC"})
    proc = cli("--db", str(path), *REPORT_NOW, "kpi", *WINDOW, check=True, env={"TZ": "UTC"})
    assert re.search(r"cycle time p50 / p90\s+0s / 1h 30m", proc.stdout)
    assert re.search(r"handled by a rep\s+40m 00s / 1h 30m", proc.stdout)
    page = out.read_text()
    assert "<b>40m 00s</b><span>rep-handled cycle p50</span>" in page


def test_html_colours_class_bars_by_class_and_stops_the_hours_at_now(kpi_day, cli, tmp_path: Path) -> None:  # noqa: ANN001
    path, _ = kpi_day
    out = tmp_path / "r.html"
    cli("--db", str(path), *REPORT_NOW, "kpi", *WINDOW, "--html", str(out), check=True, env={"TZ": "UTC"})
    page = out.read_text()
    depth = page.split("<h2>Queue depth by class</h2>", 1)[1].split("<h2>", 1)[0]
    fills = dict(re.findall(r'<text x="0" y="[\d.]+">(P\d)</text><rect [^>]*fill="(#[0-9a-f]+)"', depth))
    assert set(fills) == {"P1", "P2", "P3", "P4"} and len(set(fills.values())) == 4, fills
    hours = page.split("<h2>Released per hour</h2>", 1)[1].split("<h2>", 1)[0]
    assert hours.count("<rect") == 12  # 00:00 … 11:00: the report is made at 11:10
    assert "<title>11:00:" in hours and "<title>12:00:" not in hours
