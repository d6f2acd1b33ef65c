"""An EDI order as a rep works it: where it came from (partner, PO, interchange, the raw segments), when
each acknowledgment went out, and mapping an unknown partner item code to one of our SKUs (TUI F4).

Mapping saves the code to the partner's cross-reference and re-evaluates the order in the same
transaction: every line of this order sent under that code gains our SKU (the lines are replaced
through OrderService's own `_replace_lines`, so totals and stock follow the rules of any lines edit),
and the "partner item … unknown" reasons it answered leave the order's queue reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.delivery import DeliveryState
from core.edi.purchase_order import raw_from_text
from core.edi_mapping import po_from_json, unknown_item_reason, unknown_items_reason
from core.errors import DomainError, ValidationError
from core.money import from_price_int
from core.permissions import Action
from db import claims, outbox
from db.service.edi_acks import EDI_FILE
from db.service.context import Context
from db.service.edi_partners import save_xref
from db.service.orders import LineInput, OrderService


@dataclass(frozen=True)
class EdiAck:
    document: str       # 997, CONTRL, 855, ORDRSP
    control: int
    at: Any             # datetime: when it went out (sent), else when it was owed (pending / failed)
    file: str           # the path; a pending or failed one says so after it, with the last error
    state: str = "sent"  # the outbox delivery's: sent, pending, failed
    error: str | None = None


@dataclass(frozen=True)
class EdiOrderInfo:
    partner: str
    po_number: str
    interchange: str    # ISA13 / UNB reference
    message: str        # ST02 / UNH reference
    standard: str
    raw: list[str]
    unknown: list[dict[str, Any]]   # {position, codes: [[qualifier, code]…], reason}
    acks: list[EdiAck]


def _ack(d: outbox.Delivery) -> EdiAck:
    """An acknowledgment as its delivery stands: sent (when), or still owed and why not yet."""
    path = str(Path(d.target) / d.payload["name"])
    if d.state == DeliveryState.SENT:
        return EdiAck(d.payload["document"], d.payload["control"], d.sent_at, path)
    note = f" ({d.state.value}, not sent yet" if d.state == DeliveryState.PENDING else f" ({d.state.value}"
    note += f": {d.last_error})" if d.last_error else ")"
    return EdiAck(d.payload["document"], d.payload["control"], d.created_at, path + note, d.state.value, d.last_error)


class EdiOrderService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.orders = OrderService(ctx)

    def info(self, number: str) -> EdiOrderInfo | None:
        """The EDI side of an order, or None for an order that did not come by EDI."""
        self.ctx.require(Action.ORDER_VIEW)
        c = self.ctx.store.conn
        with self.ctx.store.read():
            e = c.execute("""SELECT e.*, o.id AS oid, p.name AS partner, i.control_reference, i.standard, i.id AS icid
                             FROM orders o JOIN edi_orders e ON e.order_id = o.id JOIN partners p ON p.id = e.partner_id
                             JOIN edi_interchanges i ON i.id = e.interchange_id WHERE o.number = ?""",
                          ((number or "").upper(),)).fetchone()
            if e is None:
                return None
            acks = []
            for entity, eid in (("edi_interchange", e["icid"]), ("order", e["oid"])):
                for d in outbox.for_entity(c, entity, eid):
                    if d.kind == EDI_FILE:
                        acks.append(_ack(d))
        po = po_from_json(e["purchase_order"])
        by_pos = {ln.position: ln for ln in po.lines}
        unknown = [{**u, "reason": unknown_item_reason(by_pos[u["position"]])} for u in json.loads(e["unresolved"])
                   if u["position"] in by_pos]
        return EdiOrderInfo(e["partner"], e["po_number"], e["control_reference"], e["message_control"], e["standard"],
                            raw_from_text(e["raw"]), unknown, acks)

    def map_item(self, number: str, qualifier: str, code: str, sku: str, *, token: str | None) -> int:
        """Save `code` (`qualifier`) → `sku` to the order's partner's cross-reference and give this order's
        lines sent under it our SKU. The claim holder only. Returns how many lines were added."""
        self.ctx.require(Action.ORDER_WORK, number)
        sku = (sku or "").strip().upper()
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = self.orders._locked_row(c, number, now)
            claims.fence(row, user=self.ctx.actor.name, token=token, now=now, need_claim=True)
            e = c.execute("SELECT * FROM edi_orders WHERE order_id = ?", (row["id"],)).fetchone()
            if e is None:
                raise DomainError(f"{row['number']} did not come by EDI; it has no partner codes to map")
            if c.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is None:
                raise ValidationError(f"unknown SKU {sku!r} (F4 lists them)", field="sku")
            po = po_from_json(e["purchase_order"])
            by_pos = {ln.position: ln for ln in po.lines}
            unresolved = json.loads(e["unresolved"])
            hit = [u for u in unresolved if [qualifier, code] in u["codes"]]
            if not hit:
                raise ValidationError(f"{row['number']} has no unknown partner item {code} ({qualifier})", field="code")
            save_xref(c, e["partner_id"], [(code, qualifier, sku)])
            lines = [LineInput(sku=r["sku"], qty=r["qty"], discount_pct=str(r["discount_e2"] / 100),
                               unit_price=str(from_price_int(r["unit_price_e4"])))
                     for r in c.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (row["id"],))]
            line_map = json.loads(e["line_map"])
            for u in hit:
                q = by_pos[u["position"]].quantity
                lines.append(LineInput(sku=sku, qty=int(q) if q == q.to_integral_value() else str(q)))
                line_map.setdefault(str(u["position"]), sku)
            self.orders._replace_lines(c, row, lines, now)
            rest = [u for u in unresolved if u not in hit]
            was = unknown_items_reason([by_pos[u["position"]] for u in unresolved if u["position"] in by_pos])
            now_reason = unknown_items_reason([by_pos[u["position"]] for u in rest if u["position"] in by_pos])
            reason = row["queue_reason"] or ""
            reason = reason.replace(was, now_reason or "", 1) if was and was in reason else reason
            left = [r for r in reason.split("; ") if r]
            c.execute("UPDATE edi_orders SET unresolved = ?, line_map = ? WHERE order_id = ?",
                      (json.dumps(rest), json.dumps(line_map), row["id"]))
            row = self.orders._row(c, row["number"])
            self.orders._update(c, row, now, queue_reason="; ".join(left) or None)
            self.orders._event(c, row, now, "edi_item_mapped", code=code, qualifier=qualifier, sku=sku,
                               lines=len(hit), still_unknown=len(rest))
        return len(hit)
