"""Pilot tests of the returns screens: the full flow, separation of duties, bulk actions."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable, Label

from core.money import fmt
from db.service import Desk
from db.service.returns import ReturnLineInput
from db.store import Store
from tests.returns.conftest import shipped_line
from tests.tui_host import HostApp, press
from tui.screens.return_entry import ReturnEntryScreen
from tui.screens.return_process import ReturnProcessScreen
from tui.screens.returns import BulkReport, ReturnsScreen
from tui.widgets.note_dialog import Confirm, NoteDialog


def _desk(path: Path, user: str) -> Desk:
    return Desk.for_user(Store.open(path), user)


async def test_full_flow_keyboard_only(rdb: Path) -> None:
    ln = shipped_line(rdb, min_left=2)
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ReturnEntryScreen)
        await press(pilot, ln["number"], "enter")
        await pilot.pause()
        entry = app.screen
        assert entry.lines and entry.lines[0]["order"] == ln["number"]
        k = next(i for i, x in enumerate(entry.lines) if x["sku"] == ln["sku"])
        for _ in range(2 * len(entry.lines)):
            if app.focused is not None and app.focused.id == f"qty-{k}":
                break
            await pilot.press("tab", "tab")
        assert app.focused.id == f"qty-{k}"
        await press(pilot, "2", "tab", "damaged")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ReturnProcessScreen), entry.query_one("#entry-error").render()
        proc = app.screen
        number = proc.number
        assert proc.data["state"] == "requested"
        await pilot.press("t")
        await pilot.pause()
        assert proc.data["state"] == "authorized"
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("1", "enter")  # a short receipt: 1 of 2
        await pilot.pause()
        assert proc.data["state"] == "received"
        assert "SHORT 1" in str(proc.query_one(DataTable).get_row_at(0)[6])
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("enter")  # a damaged return proposes damaged / scrap (core.return_labels)
        await pilot.pause()
        assert proc.data["state"] == "inspected"
        await pilot.press("s")
        await pilot.pause()
        body = str(app.screen.query_one("#confirm-body").render())
        assert "no restocking fee (our fault)" in body and "refund =" in body
        await pilot.press("enter")
        await pilot.pause()
        assert proc.data["state"] == "resolved"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReturnsScreen)
    d = desk.returns.detail(number)
    assert d["state"] == "resolved" and d["lines"][0]["qty_received"] == 1


def _make_pending(path: Path, requester: str) -> str:
    desk = _desk(path, requester)
    ln = shipped_line(path, min_left=1, min_amount_cents=60_000)
    d = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=ln["qty"] - ln["qty_returned"], reason="defective")],
                         resolution="refund", orders=[ln["number"]])
    desk.store.close()
    assert d["state"] == "pending_approval"
    return d["number"]


async def test_self_approval_refused_in_tui(rdb: Path) -> None:
    number = _make_pending(rdb, "sam")
    for user in ("carol", "sam"):
        desk = _desk(rdb, user)
        app = HostApp(desk, lambda d: ReturnProcessScreen(d, number))
        notes: list[str] = []
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            app.notify = lambda msg, **kw: notes.append(msg)  # type: ignore[method-assign]
            offered = {a.binding.description for a in app.screen.active_bindings.values() if a.binding.show}
            await pilot.press("a")
            await pilot.pause()
            assert app.screen.data["state"] == "pending_approval"
        if user == "carol":  # a returns clerk is not offered approval at all
            assert "Approve" not in offered and not notes, notes
        else:  # a supervisor is, and the service refuses his own request
            assert "Approve" in offered and any("may not approve it" in n for n in notes), notes
        assert desk.returns.detail(number)["state"] == "pending_approval"
        desk.store.close()
    # the approvals view lists it for a supervisor, and another supervisor approves it from there
    _desk(rdb, "admin").users.add("sue", "supervisor")
    sue = _desk(rdb, "sue")
    app = HostApp(sue, lambda d: ReturnsScreen(d, approvals=True))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        scr = app.screen
        assert [r["number"] for r in scr.rows if r["number"] == number]
        scr.query_one(DataTable).move_cursor(row=[r["number"] for r in scr.rows].index(number))
        row = next(r for r in scr.rows if r["number"] == number)
        await pilot.press("a")  # money leaves on one key no more: the amount is shown and confirmed
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        question = str(app.screen.query_one(Label).render())
        assert number in question and fmt(Decimal(row["refund_amount"])) in question
        assert sue.returns.detail(number)["approved_by"] is None
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BulkReport)
        title = str(app.screen.query_one("#bulk-title").render())
        assert title == f"approve {number}: done"  # one return: no "bulk"
        await pilot.press("escape")
    assert sue.returns.detail(number)["approved_by"] == "sue"


async def test_bulk_receive_one_refused_others_done(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    used: tuple[str, ...] = ()
    for _ in range(2):
        ln = shipped_line(rdb, min_left=1, exclude=used)
        used += (ln["number"],)
        n = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="wrong_item")], resolution="refund",
                             orders=[ln["number"]])["number"]
        desk.returns.authorize(n)
    authorized = [r["number"] for r in desk.returns.list(states=("authorized",)) if not r["claimed_by"]][:3]
    requested = [r["number"] for r in desk.returns.list(states=("requested",)) if not r["claimed_by"]][:1]
    assert len(authorized) >= 2 and requested
    batch = set(authorized + requested)
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        scr = app.screen
        table = scr.query_one(DataTable)
        for i, r in enumerate(list(scr.rows)):
            if r["number"] in batch:
                table.move_cursor(row=i)
                await pilot.press("space")
        await pilot.pause()
        assert scr.selected == batch
        await pilot.press("v")
        await pilot.pause()
        report = app.screen
        assert isinstance(report, BulkReport)
        text = str(report.query_one("#bulk-body").render())
        assert f"{len(batch) - 1} done, 1 refused" in str(report.query_one("#bulk-title").render())
        assert f"{requested[0]}  refused: cannot receive a requested return" in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReturnsScreen) and not scr.selected
    for n in authorized:
        assert desk.returns.detail(n)["state"] == "received"
    assert desk.returns.detail(requested[0])["state"] == "requested"


async def test_queue_is_live(rdb: Path) -> None:
    """Another session's new return shows without a key press, and the cursor stays on its item."""
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        scr = app.screen
        table = scr.query_one(DataTable)
        table.move_cursor(row=2)
        keep = scr.current
        other = _desk(rdb, "sam")
        ln = shipped_line(rdb, min_left=1)
        made = other.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="damaged")], resolution="refund",
                                 orders=[ln["number"]])["number"]
        app.feed_poke()  # the real app's change feed does this on the other session's commit
        await pilot.pause()
        assert made in [r["number"] for r in scr.rows]
        assert scr.current == keep


async def test_reject_with_reason_and_told_when_someone_else_claims(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    ln = shipped_line(rdb, min_left=1)
    number = desk.returns.new(lines=[ReturnLineInput(sku=ln["sku"], qty=1, reason="arrived_late")],
                              resolution="store_credit", orders=[ln["number"]])["number"]
    app = HostApp(desk, lambda d: ReturnProcessScreen(d, number))
    notes: list[str] = []
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        app.notify = lambda msg, **kw: notes.append(msg)  # type: ignore[method-assign]
        sam = _desk(rdb, "sam")
        got = sam.returns.claim(number)
        app.feed_poke()
        await pilot.pause()
        assert any(f"{number} was just claimed by sam" in n for n in notes), notes
        sam.returns.unclaim(number, got.claim_token)
        app.feed_poke()
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")  # empty: refused beside the field
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)  # the one note dialog (tui.widgets.note_dialog)
        assert "needs a reason" in str(app.screen.query_one("#dlg-error").render())
        await press(pilot, "no receipt", "enter")
        await pilot.pause()
        assert app.screen.data["state"] == "rejected"
        assert "rejected: no receipt" in str(app.screen.query_one("#return-head").render())


async def test_claim_next_work_and_give_back(rdb: Path) -> None:
    desk = _desk(rdb, "carol")
    app = HostApp(desk, ReturnsScreen)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        first = app.screen.rows[0]
        await pilot.press("c")
        await pilot.pause()
        proc = app.screen
        assert isinstance(proc, ReturnProcessScreen)
        token = app.claims.token_for(proc.number)
        assert token and proc.data["claimed_by"] == "carol"
        assert proc.number in [r["number"] for r in desk.returns.list(states=("requested", "authorized", "received",
                                                                                  "inspected"))]
        state = proc.data["state"]
        if state == "requested":
            await pilot.press("t")  # fenced by the session's token
            await pilot.pause()
            assert proc.data["state"] == "authorized"
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ReturnsScreen)
        assert app.claims.token_for(proc.number) is None
        assert desk.returns.detail(proc.number)["claimed_by"] is None
        assert first  # the queue was not empty
