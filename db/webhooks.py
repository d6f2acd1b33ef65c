"""Partners' webhook subscriptions, the deliveries an event owes them, and the log of their tries.

The hand-off: a command that releases, ships or cancels an order, or resolves a return, calls
`order_event` / `return_event` inside its own write transaction, right after its audit event. For each
live subscription that wants the event and may see the order (`_in_scope`), one `webhook` delivery is
written to the outbox (db.outbox) in that same transaction, its body already fixed (core.webhooks.body).
So the event and what it owes commit together or not at all; the worker (db.deliver.webhook) sends it.

Scope, as the API's (db.service.partner_api): a partner tied to one customer hears of that customer's
orders and returns; one tied to none hears of those it sent or requested itself. A subscription with
scope `all` (a fulfilment system, e.g. the warehouse) hears of every order and return; only a partner
tied to no customer may have one.

Cost when nobody subscribes: one indexed query per event.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.delivery import short_error
from core.webhooks import EDI_ACK, TRIES_KEPT, body, event_id
from db.dbapi import Connection, Row
from db import dialect, outbox
from db.convert import dt, ts

KIND = "webhook"


@dataclass(frozen=True)
class Webhook:
    id: int
    partner: str
    partner_id: int
    url: str
    events: list[str]
    scope: str
    created_at: datetime
    removed_at: datetime | None

    @classmethod
    def from_row(cls, r: Row) -> "Webhook":
        return cls(id=r["id"], partner=r["partner"], partner_id=r["partner_id"], url=r["url"],
                   events=r["events"].split(","), scope=r["scope"], created_at=dt(r["created_at"]),
                   removed_at=dt(r["removed_at"]))


_SELECT = "SELECT w.*, p.name AS partner FROM webhooks w JOIN partners p ON p.id = w.partner_id"


def add(c: Connection, *, partner_id: int, url: str, events: list[str], secret: str, scope: str,
        now: datetime) -> int:
    cur = c.execute("INSERT INTO webhooks (partner_id, url, events, secret, scope, created_at) VALUES (?,?,?,?,?,?)",
                    (partner_id, url, ",".join(events), secret, scope, ts(now)))
    return int(cur.lastrowid or 0)


def get(c: Connection, hook_id: int) -> Webhook | None:
    row = c.execute(f"{_SELECT} WHERE w.id = ?", (hook_id,)).fetchone()
    return Webhook.from_row(row) if row else None


def listing(c: Connection, *, removed: bool = False) -> list[Webhook]:
    where = "" if removed else " WHERE w.removed_at IS NULL"
    return [Webhook.from_row(r) for r in c.execute(f"{_SELECT}{where} ORDER BY w.id")]


def remove(c: Connection, hook_id: int, *, now: datetime) -> int:
    """Mark the hook removed and give up what it still owes (failed, with the reason): nothing more is sent
    to it. A try in flight finds its lease gone and records nothing. Returns how many were given up."""
    c.execute("UPDATE webhooks SET removed_at = ? WHERE id = ?", (ts(now), hook_id))
    hook = dialect.of(c).json_text("payload", "webhook")
    cur = c.execute(
        f"""UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = ?, leased_by = NULL,
               lease_token = NULL, lease_expires_at = NULL
           WHERE kind = ? AND state = 'pending' AND CAST({hook} AS INTEGER) = ?""",
        (f"webhook {hook_id} was removed", KIND, hook_id))
    return cur.rowcount


def for_sending(c: Connection, hook_id: int) -> Row | None:
    """What the sender needs at each try: the secret, whether the hook is still there, whether its partner
    is still enabled."""
    return c.execute("SELECT w.secret, w.removed_at, p.name AS partner, p.active FROM webhooks w "
                     "JOIN partners p ON p.id = w.partner_id WHERE w.id = ?", (hook_id,)).fetchone()


# ---- events -> deliveries ---------------------------------------------------------------------------
def _live_for(c: Connection, event: str) -> list[Row]:
    rows = c.execute("SELECT w.id, w.url, w.events, w.scope, p.id AS pid, p.name, p.customer_id FROM webhooks w "
                     "JOIN partners p ON p.id = w.partner_id WHERE w.removed_at IS NULL AND p.active = 1").fetchall()
    return [r for r in rows if event in r["events"].split(",")]


def _in_scope(hook: Row, entity: str, row: Row) -> bool:
    if hook["scope"] == "all":
        return True
    if hook["customer_id"] is not None:
        return row["customer_id"] == hook["customer_id"]
    actor = f"partner:{hook['name']}"
    if entity == "order":
        # created_by: an order the partner is placing right now gets its partner_id just after it is made
        # (db.service.partner_api), but its straight-through release is inside the making
        return row["partner_id"] == hook["pid"] or row["created_by"] == actor
    return row["requested_by"] == actor


def _event_row_id(c: Connection, entity: str, entity_id: int, action: str) -> int:
    """The causing audit event, when the caller wrote it in a batch and has no id at hand (the importer)."""
    row = c.execute("SELECT MAX(id) FROM events WHERE entity = ? AND entity_id = ? AND action = ?",
                    (entity, entity_id, action)).fetchone()
    return int(row[0] or 0)


def _enqueue(c: Connection, hooks: list[Row], *, event: str, entity: str, row: Row,
             event_row_id: int, now: datetime, view: Callable[[str], dict[str, Any]],
             extra: dict[str, Any] | None) -> int:
    written = 0
    for h in hooks:
        if not _in_scope(h, entity, row):
            continue
        text = body(event=event, event_row_id=event_row_id, occurred_at=now, about=entity,
                    view=view(f"{h['name']}:"), extra=extra)
        outbox.enqueue(c, kind=KIND, target=h["url"], now=now, entity=entity, entity_id=row["id"],
                       ref=row["number"], event_id=event_row_id,
                       payload={"webhook": h["id"], "event": event, "event_id": event_id(event_row_id), "body": text})
        written += 1
    return written


def order_event(c: Connection, event: str, order_ids: list[int], *, now: datetime,
                event_row_id: int | None = None, action: str | None = None,
                extra: dict[str, Any] | None = None) -> int:
    """The deliveries owed for `event` on these orders (just written by the caller, in its transaction).
    `event_row_id`: the causing audit event; or `action`, to find it (a batch of orders). Returns how many."""
    hooks = _live_for(c, event)
    if not hooks:
        return 0
    from db.service.partner_api import order_view  # the API's own shape of an order

    written = 0
    for oid in order_ids:
        row = c.execute("SELECT * FROM orders WHERE id = ?", (oid,)).fetchone()
        eid = event_row_id if event_row_id is not None else _event_row_id(c, "order", oid, action or "")
        written += _enqueue(c, hooks, event=event, entity="order", row=row, event_row_id=eid, now=now,
                            view=lambda prefix, r=row: order_view(c, r, prefix), extra=extra)
    return written


def return_event(c: Connection, event: str, return_id: int, *, now: datetime, event_row_id: int,
                 view: Callable[[], dict[str, Any]]) -> int:
    """As `order_event`, for a return; `view()` gives the return as the API shows it (read only when some
    hook wants it)."""
    hooks = _live_for(c, event)
    if not hooks:
        return 0
    row = c.execute("SELECT * FROM returns WHERE id = ?", (return_id,)).fetchone()
    shown: list[dict[str, Any]] = []

    def once(_prefix: str) -> dict[str, Any]:
        if not shown:
            shown.append(view())
        return shown[0]

    return _enqueue(c, hooks, event=event, entity="return", row=row, event_row_id=event_row_id, now=now,
                    view=once, extra=None)


def edi_ack_event(c: Connection, *, partner_id: int, entity: str, entity_id: int, ref: str, now: datetime,
                  event_row_id: int, ack: dict[str, Any]) -> int:
    """`edi.ack` to the hooks of the partner whose interchange came by the API (its own hooks only,
    whatever their scope: the acknowledgment is addressed to that partner). `ack`: document, control,
    file_name and the document's text, as the `edi_file` delivery writes it. Returns how many."""
    written = 0
    for h in _live_for(c, EDI_ACK):
        if h["pid"] != partner_id:
            continue
        text = body(event=EDI_ACK, event_row_id=event_row_id, occurred_at=now, about="acknowledgment",
                    view={**ack, "partner": h["name"], "about": ref})
        outbox.enqueue(c, kind=KIND, target=h["url"], now=now, entity=entity, entity_id=entity_id, ref=ref,
                       event_id=event_row_id,
                       payload={"webhook": h["id"], "event": EDI_ACK, "event_id": event_id(event_row_id), "body": text})
        written += 1
    return written


# ---- the log of tries -------------------------------------------------------------------------------
def record_try(c: Connection, delivery_id: int, *, at: datetime, status: int | None, error: str | None,
               duration_ms: float) -> None:
    """One try's answer (a status code, or why there was none); only the last TRIES_KEPT per delivery stay:
    a receiver down for a day is tried ~3000 times, and the count is on the delivery anyway."""
    c.execute("INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms) VALUES (?,?,?,?,?)",
              (delivery_id, ts(at), status, short_error(error) if error else None, round(duration_ms, 1)))
    c.execute("""DELETE FROM webhook_attempts WHERE delivery_id = ? AND id NOT IN
                   (SELECT id FROM webhook_attempts WHERE delivery_id = ? ORDER BY id DESC LIMIT ?)""",
              (delivery_id, delivery_id, TRIES_KEPT))


def log(c: Connection, *, partner_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Webhook deliveries, newest first, with their hook, partner and last tries."""
    where, args = ("WHERE d.kind = ?", [KIND])
    if partner_id is not None:
        where += " AND w.partner_id = ?"
        args.append(partner_id)
    rows = c.execute(
        f"""SELECT d.*, w.id AS hook, p.name AS partner FROM deliveries d
              LEFT JOIN webhooks w ON w.id = CAST({dialect.of(c).json_text('d.payload', 'webhook')} AS INTEGER)
              LEFT JOIN partners p ON p.id = w.partner_id
            {where} ORDER BY d.id DESC LIMIT ?""", (*args, limit)).fetchall()
    out = []
    for r in rows:
        d = outbox.Delivery.from_row(r)
        tries = c.execute("SELECT at, status, error, duration_ms FROM webhook_attempts WHERE delivery_id = ? "
                          "ORDER BY id", (d.id,)).fetchall()
        out.append({"delivery": d, "hook": r["hook"], "partner": r["partner"],
                    "tries": [{"at": dt(t["at"]), "status": t["status"], "error": t["error"],
                               "duration_ms": t["duration_ms"]} for t in tries]})
    return out
