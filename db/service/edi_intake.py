"""EDI intake: an X12 or EDIFACT file (or an API body) in, one order per 850 / ORDERS message, the
997 / CONTRL out, and the 855 / ORDRSP of each order that goes straight through.

One file is one transaction. Refused whole, with one reason and nothing written: a file the readers
refuse (empty, binary, truncated, broken envelope), an interchange from a sender no partner has, and
an interchange that partner sent before (ISA13 / UNB reference). Otherwise each message stands alone:
a bad one (wrong SE01 count, a quantity that is not a number, an order our rules refuse) is rejected
by itself, named in the 997 / CONTRL, and the good ones beside it are imported.

Each order is made by OrderService's own creation (`_create_in`), so the straight-through decision of
SPEC §2 is the one every channel gets (core.orders.decide). What only EDI adds, decided here:
- an item code neither the partner's cross-reference nor our barcodes know, or a ship-to party code
  with no mapping and no address, queues the order for a rep with the code shown — never a reject;
- a partner price further than the tolerance from ours is a `pricing` hold (core.edi_mapping);
- the ship-to is the mapped address of the ST / DP party, else the address it sent, else the default.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.edi import detect_format
from core.edi.edifact import parse_edifact
from core.edi.edifact_orders import read_edifact_orders
from core.edi.edifact_write import write_contrl
from core.edi.problems import EdiRefused, Problem
from core.edi.purchase_order import OrderOutcome, PurchaseOrder, gc_paused, raw_to_text
from core.edi.x12 import parse_x12
from core.edi.x12_850 import read_x12_orders
from core.edi.x12_write import Controls, write_997
from core.edi_mapping import po_to_json, price_differs, resolve_sku, unknown_items_reason
from core.enums import Channel, HoldReason, OrderState
from core.errors import OrderqError, ValidationError
from core.money import from_price_int
from core.orders import HoldCheck
from core.permissions import Action
from db import events
from db.convert import iso, ts
from db.service.context import Context
from db.service.edi_acks import API_SOURCE, acknowledge_order, enqueue_ack, file_name, next_controls
from db.service.edi_partners import EdiProfile, barcodes, party_map, partner_for, xref_of
from db.service.order_header import HeaderInput
from db.service.orders import LineInput, OrderService

FORMATS = ("x12", "edifact")
#: the largest EDI file read (a 10,000-message interchange is ~25 MB)
MAX_BYTES = 256 * 1024 * 1024


@dataclass
class EdiSummary:
    """What one EDI file became. Its `as_json` has the keys the drop folder's report prints."""

    file: str
    format: str
    interchanges: int = 0
    messages: int = 0
    orders: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    #: the acknowledgments' text, for the API's answer (the same as the files)
    documents: list[str] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    @property
    def straight_through(self) -> int:
        return sum(1 for o in self.orders if o["state"] == OrderState.RELEASED.value)

    def as_json(self) -> dict[str, Any]:
        by_state: dict[str, int] = {}
        for o in self.orders:
            by_state[o["state"]] = by_state.get(o["state"], 0) + 1
        return {"file": self.file, "format": self.format, "interchanges": self.interchanges,
                "messages": self.messages, "orders": len(self.orders), "straight_through": self.straight_through,
                "queued_for_rep": len(self.orders) - self.straight_through, "by_state": by_state,
                "rejects": len(self.rejected), "rejected": self.rejected, "acknowledgments": self.acks,
                "returns": 0, "already_imported_orders": 0, "seconds": round(self.seconds, 2),
                "order_numbers": [o["number"] for o in self.orders][:1000]}


def _qty(q: Decimal) -> Any:
    return int(q) if q == q.to_integral_value() else str(q)


def _ship_to(po: PurchaseOrder, parties: dict[str, int]) -> tuple[dict[str, Any], str | None]:
    """HeaderInput fields for the ship-to, and the reason to queue when its code is unknown."""
    st = po.ship_to
    if st is None:
        return {}, None
    if st.id_code and st.id_code in parties:
        return {"ship_to": parties[st.id_code]}, None
    if st.address_lines or st.city:
        name = " ".join(x for x in (st.name, *st.extra_names) if x)
        return {"imported_ship_to": {"name": name, "street": list(st.address_lines), "city": st.city,
                                     "region": st.state or None, "postcode": st.postal_code or None,
                                     "country": st.country}}, None
    if st.id_code:
        return {}, f"partner party {st.id_code} ({st.id_qualifier or st.role}) unknown"
    return {}, None


class EdiIntake:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.orders = OrderService(ctx)
        self._envelope_dicts: dict[int, tuple[Any, dict[str, object]]] = {}

    def import_file(self, path: str | Path, fmt: str | None = None) -> EdiSummary:
        self.ctx.require(Action.IMPORT, str(path))
        p = Path(path)
        try:
            if p.stat().st_size > MAX_BYTES:
                raise ValidationError(f"{p.name} is over {MAX_BYTES // 2**20} MiB; split the interchange", field="file")
            data = p.read_bytes()
        except OSError as e:
            raise ValidationError(f"cannot read {path}: {e.strerror or e}", field="file") from None
        return self.import_bytes(data, name=p.name, fmt=fmt)

    def import_bytes(self, data: bytes, *, name: str, fmt: str | None = None, sender_id: int | None = None) -> EdiSummary:
        """`sender_id`: the partner the data must come from (the API key's), else any known sender."""
        self.ctx.require(Action.IMPORT if sender_id is None else Action.ORDER_CREATE, name)
        t0 = time.perf_counter()
        found = detect_format(data) if data.strip() else None
        if not data.strip():
            raise ValidationError(f"{name}: the file is empty; nothing imported", field="file")
        if found is None and fmt in FORMATS:
            found = fmt  # as asked: the reader then says what the file is instead (binary data, …)
        if found is None:
            raise ValidationError(f"{name}: not an EDI interchange (the first segment is not ISA, UNA or UNB); "
                                  "nothing imported", field="file")
        if fmt in FORMATS and fmt != found:
            raise ValidationError(f"{name}: --format {fmt} but the file is {found} (its first segment); "
                                  "nothing imported", field="format")
        try:
            with gc_paused():
                if found == "x12":
                    ics: list[Any] = parse_x12(data)
                    read = [read_x12_orders(ic) for ic in ics]
                else:
                    ics = parse_edifact(data)
                    read = [read_edifact_orders(ic) for ic in ics]
        except EdiRefused as e:
            raise ValidationError(f"{name}: {e.message}; nothing imported", field="file") from None
        summary = EdiSummary(file=name, format=found, interchanges=len(ics))
        now = self.ctx.now()
        with gc_paused(), self.ctx.write() as c:
            seen: set[tuple[int, str]] = set()
            profiles = []
            for ic in ics:
                env = ic.envelope()
                prof = partner_for(c, found, env.sender_qualifier, env.sender_id)
                who = f"{env.sender_qualifier}:{env.sender_id}" if found == "x12" else env.sender_id
                if prof is None:
                    how = f"--isa {who}" if found == "x12" else f"--unb {who}"
                    raise ValidationError(f"{name}: unknown sender {who} (no partner has it: `orderq partners edi "
                                          f"NAME {how} --outbox DIR`); nothing imported", field="file")
                if sender_id is not None and prof.partner.id != sender_id:
                    raise ValidationError(f"{name}: the interchange is from {who}, partner {prof.partner.name}, not "
                                          "the partner of this key; nothing imported", field="file")
                if not prof.partner.active:
                    raise ValidationError(f"{name}: partner {prof.partner.name} is disabled; nothing imported",
                                          field="file")
                ref = env.control_reference
                dup = c.execute("SELECT file_name, received_at FROM edi_interchanges WHERE partner_id = ? AND "
                                "control_reference = ?", (prof.partner.id, ref)).fetchone()
                if dup is not None or (prof.partner.id, ref) in seen:
                    when = f", received {iso(dup['received_at'])} in {dup['file_name']}" if dup else " (twice in this file)"
                    raise ValidationError(f"{name}: duplicate interchange {ref} from {prof.partner.name}{when}; "
                                          "nothing imported", field="file")
                seen.add((prof.partner.id, ref))
                profiles.append(prof)
            bars = barcodes(c)
            for ic, outcomes, prof in zip(ics, read, profiles):
                self._interchange(c, ic, outcomes, prof, bars, now, summary)
        summary.seconds = time.perf_counter() - t0
        return summary

    # ---- one interchange ----------------------------------------------------------------------
    def _interchange(self, c: Any, ic: Any, outcomes: list[OrderOutcome], prof: EdiProfile, bars: dict[str, str],
                     now: datetime, summary: EdiSummary) -> None:
        partner = prof.partner
        env = ic.envelope()
        cur = c.execute("""INSERT INTO edi_interchanges (partner_id, standard, control_reference, file_name,
                             received_at, messages, accepted, rejected, envelope) VALUES (?,?,?,?,?,?,0,0,?)""",
                        (partner.id, env.standard, env.control_reference, summary.file, ts(now),
                         len(ic.messages), json.dumps(env.as_dict())))
        ic_id = int(cur.lastrowid or 0)
        xref, parties = xref_of(c, partner.id), party_map(c, partner.id)
        cust = c.execute("SELECT code FROM customers WHERE id = ?", (partner.customer_id,)).fetchone()["code"]
        answered: list[OrderOutcome] = []
        accepted = 0
        ctl_i, ctl_g = next_controls(c, partner.id)  # the receipt's number first: it goes out before any 855
        for o in outcomes:
            summary.messages += 1
            if o.order is None or o.problems:
                answered.append(o)
                summary.rejected.append(f"{env.control_reference}: {o.reason}")
                continue
            c.execute("SAVEPOINT edi_message")
            try:
                made = self._order(c, o.order, partner, cust, xref, bars, parties, ic_id, now, o.message.position)
            except OrderqError as e:  # our rules refuse this order (a quantity that is no whole unit, …)
                c.execute("ROLLBACK TO edi_message")
                c.execute("RELEASE edi_message")
                problem = Problem(f"order refused: {e.message}", segment_id=o.order.raw_segments[0][:3] or "ST",
                                  segment_position=1, code="5" if env.standard == "x12" else "12")
                answered.append(OrderOutcome(o.message, None, [problem], o.warnings))
                summary.rejected.append(f"{env.control_reference}: message {o.message.control_number}: {problem}")
                continue
            c.execute("RELEASE edi_message")
            answered.append(o)
            accepted += 1
            summary.orders.append(made)
        if env.standard == "x12":
            text, document = write_997(ic, answered, Controls(ctl_i, ctl_g), now), "997"
        else:
            text, document = write_contrl(ic, answered, ctl_i, now), "CONTRL"
        ic_ref = f"{partner.name}:{env.control_reference}"
        path = enqueue_ack(c, partner_id=partner.id, outbox=prof.outbox or ".", text=text, document=document,
                           name=file_name(partner.name, document, env.standard, ctl_i), control=ctl_i, now=now,
                           entity="edi_interchange", entity_id=ic_id, ref=ic_ref, by_api=summary.file == API_SOURCE,
                           actor=self.ctx.actor.name,
                           data={"partner": partner.name, "source": summary.file, "messages": len(answered),
                                 "accepted": accepted,
                                 "rejected": [str(o.problems[0]) for o in answered if o.status == "R" and o.problems]})
        summary.acks.append(str(path))
        summary.documents.append(text)
        c.execute("UPDATE edi_interchanges SET accepted = ?, rejected = ?, ack_control = ?, ack_file = ? WHERE id = ?",
                  (accepted, len(answered) - accepted, ctl_i, str(path), ic_id))
        for made in summary.orders[len(summary.orders) - accepted:]:  # straight through: accepted, so the 855 now
            if made["state"] == OrderState.RELEASED.value:
                acknowledge_order(c, made["id"], now, "system")

    def _envelopes(self, po: PurchaseOrder) -> dict[str, object]:
        """The envelope's dict, made once per interchange (its messages share one Envelope object)."""
        key = id(po.envelope)
        if key not in self._envelope_dicts:  # the object kept beside its dict, so its id is not reused
            self._envelope_dicts[key] = (po.envelope, po.envelope.as_dict())
        return self._envelope_dicts[key][1]

    def _order(self, c: Any, po: PurchaseOrder, partner: Any, customer: str, xref: dict, bars: dict,
               parties: dict, ic_id: int, now: datetime, position: int) -> dict[str, Any]:
        reasons: list[str] = []
        lines: list[LineInput] = []
        line_map: dict[str, str] = {}
        unresolved: list[dict[str, Any]] = []
        price_notes: list[str] = []
        unknown = []
        for ln in po.lines:
            sku = resolve_sku(ln, xref, bars)
            if sku is None:
                unknown.append(ln)
                unresolved.append({"position": ln.position, "codes": [list(x) for x in ln.item_codes]})
                continue
            lines.append(LineInput(sku=sku, qty=_qty(ln.quantity)))
            line_map.setdefault(str(ln.position), sku)
            prod = c.execute("SELECT price_e4 FROM products WHERE sku = ?", (sku,)).fetchone()
            ours = from_price_int(prod["price_e4"]) if prod else None
            if ours is not None and price_differs(ln.unit_price, ours):
                price_notes.append(f"line {ln.line_no or ln.position} {sku}: partner price {ln.unit_price}, ours {ours}")
        items_reason = unknown_items_reason(unknown)
        if items_reason:
            reasons.append(items_reason)
        ship, party_reason = _ship_to(po, parties)
        if party_reason:
            reasons.append(party_reason)
        hold = None
        if price_notes:
            hold = HoldCheck(HoldReason.PRICING, "; ".join(price_notes))
            reasons.append("partner prices differ from ours")
        header = HeaderInput(po_number=po.po_number or None, requested_date=po.requested_date, **ship)
        # the message's place in the file tells apart two messages sent under one ST02 / UNH reference
        ref = f"edi:{partner.name}:{po.envelope.control_reference}:{po.control_number}@{position}"
        number = self.orders._create_in(
            c, now=now, customer=customer, channel=Channel.EDI, type="standard", lines=lines, charges=[],
            received_at=now, source_ref=ref, note=None, header=header, typed=False,
            needs_rep="; ".join(reasons) or None, extra_hold=hold)
        row = c.execute("SELECT id, state, queue_reason FROM orders WHERE number = ?", (number,)).fetchone()
        c.execute("UPDATE orders SET partner_id = ? WHERE id = ?", (partner.id, row["id"]))
        c.execute("""INSERT INTO edi_orders (order_id, partner_id, interchange_id, message_control, po_number,
                       purchase_order, raw, line_map, unresolved) VALUES (?,?,?,?,?,?,?,?,?)""",
                  (row["id"], partner.id, ic_id, po.control_number, po.po_number, po_to_json(po, self._envelopes(po)),
                   raw_to_text(po.raw_segments), json.dumps(line_map), json.dumps(unresolved)))
        return {"id": row["id"], "number": number, "state": row["state"], "po_number": po.po_number,
                "queue_reason": row["queue_reason"]}
