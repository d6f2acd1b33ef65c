"""A released EDI order answers the partner: an 855 (X12) or ORDRSP (EDIFACT) in its outbox, read back by
our reader (and pydifact), line by line: accepted, changed (our price is not theirs), rejected (an item
we never mapped). Control numbers keep rising per partner and are never given out twice."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydifact.segmentcollection import Interchange as PydifactInterchange

from core.edi.edifact import parse_edifact
from core.edi.x12 import parse_x12
from db.service import Desk
from tests.conftest import run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import deliver, read_outcomes, rows, set_up_partner
from tests.helpers import wait_for

ASCII1 = EDI / "x12" / "850-004010-ascii1.x12"
PYDIFACT = EDI / "edifact" / "pydifact-order.edi"


def _map(desk: Desk, sample: Path, tmp: Path, keep_unknown: int) -> list[str]:
    """Cross-reference all but the last `keep_unknown` lines of the sample's first order to SKUs."""
    po = read_outcomes(sample)[0][1][0].order
    skus = [r[0] for r in desk.store.conn.execute("SELECT sku FROM products WHERE active = 1 AND stock > 100 "
                                                  "ORDER BY sku LIMIT 10")]
    mapped = po.lines[: len(po.lines) - keep_unknown]
    f = tmp / "xref-all.csv"
    f.write_text("".join(f"{ln.item_codes[0].code},{ln.item_codes[0].qualifier},{skus[i]}\n"
                         for i, ln in enumerate(mapped)), encoding="utf-8")
    desk.edi_partners.load_xref("acme", f)
    return skus[: len(mapped)]


def _release(desk_for, db: Path, number: str) -> None:  # noqa: ANN001
    rep: Desk = desk_for(db, "alice")
    order = rep.orders.get(number)
    if order.state.value == "on_hold":
        rep.orders.unhold(number, "partner prices checked with the buyer: ours stand")
    got = rep.orders.claim(number)
    for step in order.checklist if hasattr(order, "checklist") else []:
        rep.orders.tick(number, getattr(step, "step", step), token=got.claim_token)
    rep.orders.release(number, token=got.claim_token)


def _edi_order(db: Path) -> str:
    (r,) = rows(db, "SELECT o.number FROM orders o JOIN edi_orders e ON e.order_id = o.id")
    return r["number"]


def test_a_released_x12_order_sends_an_855_our_reader_parses(demo_db: Path, desk_for, tmp_path: Path) -> None:
    desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, ASCII1, tmp_path, map_first=False)
    skus = _map(desk, ASCII1, tmp_path, keep_unknown=1)
    run_cli("--db", str(demo_db), "import", str(ASCII1), check=True)
    number = _edi_order(demo_db)
    assert not [p for p in partner.outbox.iterdir() if "-855-" in p.name]  # not accepted yet: no 855
    _release(desk_for, demo_db, number)
    deliver(demo_db)
    (answer,) = [p for p in partner.outbox.iterdir() if "-855-" in p.name]
    assert answer.name == "acme-855-000000002.x12"  # the 997 had 1: ours, rising, per partner
    (ic,) = parse_x12(answer.read_bytes())
    (msg,) = ic.messages
    segs = msg.segments
    bak = [s for s in segs if s[0] == "BAK"][0]
    assert bak[3] == "12345678" and bak[2] == "AC"  # acknowledged with changes
    acks = [s[1] for s in segs if s[0] == "ACK"]
    # lines 1-3 priced at ours, not the partner's 23.52 / 26.28: price changed; line 4 never mapped: rejected
    assert acks == ["IP", "IP", "IP", "IR"]
    assert ic.separators.element == "*" and ic.isa[6].strip() == "1234567890"
    ev = rows(demo_db, "SELECT data FROM events WHERE ref = ? AND action = 'edi_ack_queued'", number)
    assert [json.loads(e["data"])["document"] for e in ev] == ["855"]
    sent = rows(demo_db, "SELECT data FROM events WHERE ref = ? AND action = 'delivery'", number)
    assert [json.loads(e["data"])["what"] for e in sent if json.loads(e["data"])["kind"] == "edi_file"] == [
        "855 acknowledgment 2"]  # when it went out: the worker's event
    assert len(skus) == 3


def test_a_released_edifact_order_sends_an_ordrsp_pydifact_reads(demo_db: Path, desk_for, tmp_path: Path) -> None:
    desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, PYDIFACT, tmp_path, map_first=False)
    _map(desk, PYDIFACT, tmp_path, keep_unknown=0)
    run_cli("--db", str(demo_db), "import", str(PYDIFACT), check=True)
    number = _edi_order(demo_db)
    (state,) = rows(demo_db, "SELECT state, queue_reason FROM orders WHERE number = ?", number)
    assert "past" in state["queue_reason"]  # requested 2015: a rep looks at it, never a reject
    _release(desk_for, demo_db, number)
    deliver(demo_db)
    (answer,) = [p for p in partner.outbox.iterdir() if "-ORDRSP-" in p.name]
    text = answer.read_text(encoding="utf-8")
    (ic,) = parse_edifact(text)
    assert ic.messages[0].type == "ORDRSP"
    ref = [s for s in PydifactInterchange.from_str(text).get_segments("RFF")][0]
    assert ref.elements[0][1] == "801715918011"
    lins = list(PydifactInterchange.from_str(text).get_segments("LIN"))
    assert len(lins) == 2


def test_a_line_short_of_stock_at_release_is_backordered_in_the_ordrsp(demo_db: Path, desk_for, tmp_path: Path) -> None:
    desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, PYDIFACT, tmp_path, map_first=False)
    (low,) = rows(demo_db, "SELECT sku, stock FROM products WHERE active = 1 AND stock BETWEEN 0 AND 7 "
                           "ORDER BY stock DESC, sku LIMIT 1")
    (plenty,) = rows(demo_db, "SELECT sku FROM products WHERE active = 1 AND stock > 100 ORDER BY sku LIMIT 1")
    assert rows(demo_db, "SELECT ship_complete FROM customers WHERE code = 'C00003'")[0][0] == 0
    xref = tmp_path / "xref-bo.csv"
    xref.write_text(f"5020436373085,EN,{low['sku']}\n5020436373108,EN,{plenty['sku']}\n", encoding="utf-8")
    desk.edi_partners.load_xref("acme", xref)
    run_cli("--db", str(demo_db), "import", str(PYDIFACT), check=True)
    number = _edi_order(demo_db)
    (o,) = rows(demo_db, "SELECT state, hold_reason FROM orders WHERE number = ?", number)
    assert (o["state"], o["hold_reason"]) == ("on_hold", "stock")  # 8 wanted, fewer on the shelf
    _release(desk_for, demo_db, number)
    deliver(demo_db)
    (answer,) = [p for p in partner.outbox.iterdir() if "-ORDRSP-" in p.name]
    text = answer.read_text(encoding="utf-8")
    segs = parse_edifact(text)[0].messages[0].segments
    lin_at = [i for i, s in enumerate(segs) if s.tag == "LIN"]
    qty = [[s.elements[0] for s in part if s.tag == "QTY"] for part in (segs[lin_at[0]:lin_at[1]], segs[lin_at[1]:])]
    # line 1: 8 ordered, the shelf's units ship now, the rest backordered; line 2: 8 to deliver
    assert qty == [[["21", "8"], ["83", str(8 - low["stock"])]], [["21", "8"], ["113", "8"]]]
    assert [s.elements[1] for s in segs if s.tag == "LIN"] == ["6", "5"]  # backordered, accepted
    assert len(list(PydifactInterchange.from_str(text).get_segments("LIN"))) == 2


def test_a_missing_outbox_folder_never_blocks_the_release_and_the_855_arrives_once_it_exists(
        demo_db: Path, desk_for, clock, tmp_path: Path) -> None:  # noqa: ANN001
    clock.t = datetime.now(UTC)  # `orderq deliver` runs on the real clock; so do these desks here
    desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, ASCII1, tmp_path, map_first=False)
    _map(desk, ASCII1, tmp_path, keep_unknown=0)
    run_cli("--db", str(demo_db), "import", str(ASCII1), check=True)
    number = _edi_order(demo_db)
    moved = partner.outbox.rename(tmp_path / "outbox-away")  # the partner's share is down
    _release(desk_for, demo_db, number)  # commits all the same
    (o,) = rows(demo_db, "SELECT state FROM orders WHERE number = ?", number)
    assert o["state"] == "released"
    deliver(demo_db)
    (d,) = rows(demo_db, "SELECT state, last_error, payload FROM deliveries WHERE kind = 'edi_file' AND entity = 'order'")
    assert (d["state"], json.loads(d["payload"])["document"]) == ("pending", "855") and "does not exist" in d["last_error"]
    info = desk.edi_orders.info(number)
    assert [(a.document, a.state) for a in info.acks] == [("997", "pending"), ("855", "pending")]
    assert "not sent yet" in info.acks[1].file
    moved.rename(partner.outbox)  # back up: the retry, due after its back-off (1 s), writes the 855

    def arrived() -> list[Path]:
        deliver(demo_db)
        return [p for p in partner.outbox.iterdir() if "-855-" in p.name]

    (answer,) = wait_for(arrived, timeout=30, step=0.5, what="the 855 after the folder is back")
    assert parse_x12(answer.read_bytes())[0].messages[0].type == "855"
    assert [a.state for a in desk_for(demo_db, None).edi_orders.info(number).acks] == ["sent", "sent"]
