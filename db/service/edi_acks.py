"""Our EDI acknowledgments: control numbers, the files in the partner's outbox folder, their events.

- **Control numbers** are ours, per partner, from `edi_counters`, bumped inside the transaction that
  writes the acknowledgment: a rolled-back import gives its number back, a committed one never again.
- **Files** go through the delivery outbox (db.outbox, kind `edi_file`, sent by db.deliver.edi_file):
  the command enqueues the document text in its own transaction and commits, so a partner folder that
  is missing or unwritable never blocks or loses an intake or a release (SPEC §6); the worker writes
  it (temp name, renamed whole), named after the document and its control number, and records when it
  went out as the order's (or interchange's) `delivery` event. The command's own event is
  `edi_ack_queued`. An interchange that came by the API also gets an `edi.ack` webhook (db.webhooks).
- **855 / ORDRSP** go out when the order is accepted: at once on straight-through, else when a rep
  releases it (OrderService.release calls `acknowledge_order` in the release's transaction).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from core.edi.edifact_write import write_ordrsp
from core.edi.x12_write import Controls, write_855
from core.edi_mapping import order_answer, po_from_json
from core.money import from_price_int
from db.dbapi import Connection, Row
from db import events
from db.convert import ts

SUFFIX = {"x12": ".x12", "edifact": ".edi"}
#: the outbox kind of an acknowledgment file (db.deliver.edi_file registers its sender)
EDI_FILE = "edi_file"
API_SOURCE = "POST /v1/edi"  # the file name an interchange posted to the API is recorded under


def next_controls(c: Connection, partner_id: int) -> tuple[int, int]:
    """Our next interchange and group control numbers for this partner (never reused)."""
    c.execute("INSERT INTO edi_counters (partner_id) VALUES (?) ON CONFLICT (partner_id) DO NOTHING", (partner_id,))
    row = c.execute("UPDATE edi_counters SET last_interchange = last_interchange + 1, last_group = last_group + 1 "
                    "WHERE partner_id = ? RETURNING last_interchange, last_group", (partner_id,)).fetchone()
    return int(row[0]), int(row[1])


def enqueue_ack(c: Connection, *, partner_id: int, outbox: str, name: str, text: str, document: str,
                control: int, now: datetime, entity: str, entity_id: int, ref: str, by_api: bool, actor: str,
                data: dict[str, Any]) -> Path:
    """Owe the partner this acknowledgment, in the caller's transaction: an `edi_file` delivery into its
    outbox folder, the `edi_ack_queued` event (with `data`), and, when the interchange came by the API, an
    `edi.ack` webhook to the partner's subscribers. Returns the path the file will have."""
    from db import outbox as deliveries
    from db import webhooks

    payload = {"name": name, "text": text, "document": document, "control": control}
    deliveries.enqueue(c, kind=EDI_FILE, target=outbox, payload=payload, now=now, entity=entity,
                       entity_id=entity_id, ref=ref)
    path = Path(outbox) / name
    eid = events.append(c, at=now, actor=actor, entity=entity, entity_id=entity_id, ref=ref, action="edi_ack_queued",
                        data={"document": document, "control": control, "file": str(path), **data})
    if by_api:
        webhooks.edi_ack_event(c, partner_id=partner_id, entity=entity, entity_id=entity_id, ref=ref, now=now,
                               event_row_id=eid, ack={"document": document, "control": control, "file_name": name,
                                                      "text": text})
    return path


def file_name(partner: str, document: str, standard: str, control: int) -> str:
    return f"{partner}-{document}-{control:09d}{SUFFIX[standard]}"


def our_lines(c: Connection, order_id: int, line_map: dict[str, str]) -> dict[int, dict[str, Any]]:
    """Per partner line position, what our order holds for it now (matched by SKU, as a rep's edit
    of the lines renumbers them): quantity, unit price, and whether it is short (backordered)."""
    rows = c.execute("SELECT sku, qty, unit_price_e4, qty_allocated FROM order_lines WHERE order_id = ? ORDER BY line_no",
                     (order_id,)).fetchall()
    by_sku: dict[str, Row] = {}
    for r in rows:
        by_sku.setdefault(r["sku"], r)
    out = {}
    for pos, sku in line_map.items():
        r = by_sku.get(sku)
        if r is not None:
            out[int(pos)] = {"qty": r["qty"], "unit_price": from_price_int(r["unit_price_e4"]),
                             "backordered": max(r["qty"] - r["qty_allocated"], 0)}
    return out


def acknowledge_order(c: Connection, order_id: int, now: datetime, actor: str) -> Path | None:
    """Enqueue the 855 / ORDRSP of an accepted EDI order and keep it as an event; None for an order that
    did not come by EDI or was answered already. Returns the path the file will have."""
    e = c.execute("""SELECT e.*, p.name AS partner, p.edi_outbox, o.number, i.file_name AS source FROM edi_orders e
                     JOIN partners p ON p.id = e.partner_id JOIN orders o ON o.id = e.order_id
                     JOIN edi_interchanges i ON i.id = e.interchange_id WHERE e.order_id = ?""",
                  (order_id,)).fetchone()
    if e is None or e["ack_control"] is not None or not e["edi_outbox"]:
        return None
    po = po_from_json(e["purchase_order"])
    answer = order_answer(po, our_lines(c, order_id, json.loads(e["line_map"])), now.date())
    ctl_i, ctl_g = next_controls(c, e["partner_id"])
    if po.standard == "x12":
        text, document = write_855(answer, Controls(ctl_i, ctl_g), now), "855"
    else:
        text, document = write_ordrsp(answer, ctl_i, now), "ORDRSP"
    counts: dict[str, int] = {}
    for a in answer.lines:
        counts[a.status.value] = counts.get(a.status.value, 0) + 1
    path = enqueue_ack(c, partner_id=e["partner_id"], outbox=e["edi_outbox"], text=text, document=document,
                       name=file_name(e["partner"], document, po.standard, ctl_i), control=ctl_i, now=now,
                       entity="order", entity_id=order_id, ref=e["number"], by_api=e["source"] == API_SOURCE,
                       actor=actor, data={"partner": e["partner"], "po_number": po.po_number, "lines": counts})
    c.execute("UPDATE edi_orders SET ack_control = ?, acked_at = ? WHERE order_id = ?", (ctl_i, ts(now), order_id))
    return path
