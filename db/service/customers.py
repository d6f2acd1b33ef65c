"""Customers, their addresses and contacts: the one place both the CLI and the TUI read and change them.

Who may change what (checked here, whichever face asks):
- everyone who works orders may *view* customers (the order permission);
- a rep may add or edit addresses and contacts (`customer.address`): on a real desk the customer on the
  phone gives a new ship-to and the rep records it there and then, rather than parking the order;
- only a supervisor or an admin edits the customer's own record — name, tier, credit limit and
  "PO required" (`customer.edit`) — because credit holds and triage rest on those.
Every change is one transaction with its event (entity `customer`).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.addresses import ADDRESS_KINDS, address_line, clean_address, clean_contact, clean_text, place
from core.enums import Tier
from core.errors import NotFound, ValidationError
from core.money import from_cents_int, to_cents_int, to_decimal
from core.permissions import Action
from db.dbapi import Connection, Row
from db import events
from db.service.context import Context

#: how many of a customer's latest orders the entry form and `customers show` list
RECENT_ORDERS = 5
#: the code of a customer a person adds: letters, digits, - and _, as imports make them
_CODE_MAX = 20


def address_dict(r: Row) -> dict[str, Any]:
    """An address row as the header stores it (the snapshot), with its id, kind and default flag."""
    return {"id": r["id"], "kind": r["kind"], "default": bool(r["is_default"]), "name": r["name"],
            "street": [s for s in (r["street"] or "").split("\n") if s], "city": r["city"],
            "region": r["region"], "postcode": r["postcode"], "country": r["country"]}


def snapshot(addr: Mapping[str, Any]) -> dict[str, Any]:
    """The address parts only (no id, kind, default): what an order keeps."""
    return {k: addr.get(k) for k in ("name", "street", "city", "region", "postcode", "country")}


def contact_dict(r: Row) -> dict[str, Any]:
    return {"id": r["id"], "name": r["name"], "email": r["email"], "phone": r["phone"]}


def customer_row(c: Connection, code: str) -> Row:
    row = c.execute("SELECT * FROM customers WHERE code = ?", ((code or "").strip(),)).fetchone()
    if row is None:
        raise NotFound(f"no customer {code!r}", field="customer")
    return row


def addresses_of(c: Connection, customer_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    """The customer's addresses, defaults first, then in the order they were added."""
    sql = "SELECT * FROM customer_addresses WHERE customer_id = ?" + (" AND kind = ?" if kind else "")
    args: tuple = (customer_id, kind) if kind else (customer_id,)
    return [address_dict(r) for r in c.execute(sql + " ORDER BY kind DESC, is_default DESC, id", args)]


def contacts_of(c: Connection, customer_id: int) -> list[dict[str, Any]]:
    return [contact_dict(r) for r in c.execute("SELECT * FROM customer_contacts WHERE customer_id = ? ORDER BY id",
                                               (customer_id,))]


def _tier(value: Any) -> Tier:
    try:
        return Tier(str(value).strip())
    except ValueError:
        raise ValidationError(f"unknown tier {value!r} ({', '.join(t.value for t in Tier)})", field="tier") from None


def _money(value: Any, field: str) -> int:
    try:
        amount = to_decimal(value, what=field.replace("_", " "))
    except ValueError as e:
        raise ValidationError(str(e), field=field) from None
    if amount < 0:
        raise ValidationError(f"{field.replace('_', ' ')} must be ≥ 0", field=field)
    return to_cents_int(amount)


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The parts an edit names (None: keep what is there)."""
    return {k: v for k, v in fields.items() if v is not None}


class CustomerService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------------------
    def list(self, search: str | None = None) -> list[dict[str, Any]]:
        """Every customer (or those whose code, name, city or country holds `search`), with the default
        ship-to's city and country so that two "Alpine Hardware GmbH" are told apart."""
        from db.order_records import CUSTOMER_SQL

        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            rows = c.execute(CUSTOMER_SQL + " ORDER BY c.code").fetchall()
        out = [self._summary(r) for r in rows]
        if search and search.strip():
            words = search.casefold().split()
            out = [d for d in out if all(w in f"{d['code']} {d['name']} {d['place']}".casefold() for w in words)]
        return out

    @staticmethod
    def _summary(r: Row) -> dict[str, Any]:
        return {"code": r["code"], "name": r["name"], "tier": r["tier"], "city": r["ship_city"],
                "country": r["ship_country"], "place": place(r["ship_city"], r["ship_country"]),
                "credit_limit": str(from_cents_int(r["credit_limit_cents"])),
                "open_balance": str(from_cents_int(r["open_balance_cents"])),
                "po_required": bool(r["po_required"]), "known": bool(r["known"])}

    def show(self, code: str) -> dict[str, Any]:
        """One customer in full: record, addresses, contacts, open balance against the limit, latest orders."""
        from db.order_records import CUSTOMER_SQL

        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            row = c.execute(CUSTOMER_SQL + " WHERE c.code = ?", ((code or "").strip(),)).fetchone()
            if row is None:
                raise NotFound(f"no customer {code!r}", field="customer")
            data = self._summary(row)
            limit, balance = row["credit_limit_cents"], row["open_balance_cents"]
            data["available"] = str(from_cents_int(limit - balance))
            data["addresses"] = addresses_of(c, row["id"])
            data["contacts"] = contacts_of(c, row["id"])
            data["recent_orders"] = self._recent(c, row["id"], RECENT_ORDERS)
        return data

    def addresses(self, code: str, kind: str = "ship_to") -> list[dict[str, Any]]:
        """The customer's addresses of one kind, default first (the entry form's F4 list)."""
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return addresses_of(c, customer_row(c, code)["id"], kind)

    def recent_orders(self, code: str, n: int = 3) -> list[dict[str, Any]]:
        self.ctx.require(Action.ORDER_VIEW)
        with self.ctx.store.read() as c:
            return self._recent(c, customer_row(c, code)["id"], n)

    @staticmethod
    def _recent(c: Connection, customer_id: int, n: int) -> list[dict[str, Any]]:
        rows = c.execute(
            """SELECT number, state, received_at, total_cents, po_number FROM orders WHERE customer_id = ?
               ORDER BY received_at DESC, id DESC LIMIT ?""", (customer_id, n))
        from db.convert import dt

        return [{"number": r["number"], "state": r["state"], "received_at": dt(r["received_at"]).isoformat(timespec="seconds"),
                 "total": str(from_cents_int(r["total_cents"])), "po_number": r["po_number"]} for r in rows]

    # ---- the customer's record (supervisor / admin) --------------------------------------
    def add(self, code: str, name: str, *, tier: str = "standard", credit_limit: Any = "0",
            po_required: bool = False) -> dict[str, Any]:
        self.ctx.require(Action.CUSTOMER_EDIT)
        code_c = clean_text(code, field="code", required=True, limit=_CODE_MAX)
        assert code_c is not None
        if not all(ch.isalnum() or ch in "-_" for ch in code_c):
            raise ValidationError(f"customer code {code_c!r}: letters, digits, - and _ only", field="code")
        fields = {"name": clean_text(name, field="name", required=True), "tier": _tier(tier).value,
                  "credit_limit_cents": _money(credit_limit, "credit_limit"), "po_required": int(bool(po_required))}
        now = self.ctx.now()
        with self.ctx.write() as c:
            if c.execute("SELECT 1 FROM customers WHERE code = ?", (code_c,)).fetchone():
                raise ValidationError(f"customer {code_c} exists already", field="code")
            cur = c.execute("INSERT INTO customers (code, name, tier, credit_limit_cents, po_required) VALUES (?,?,?,?,?)",
                            (code_c, fields["name"], fields["tier"], fields["credit_limit_cents"], fields["po_required"]))
            self._customer_event(c, int(cur.lastrowid or 0), code_c, "created", fields, now)
        return self.show(code_c)

    def edit(self, code: str, *, name: str | None = None, tier: str | None = None, credit_limit: Any = None,
             po_required: bool | None = None) -> dict[str, Any]:
        self.ctx.require(Action.CUSTOMER_EDIT, code)
        cols: dict[str, Any] = {}
        if name is not None:
            cols["name"] = clean_text(name, field="name", required=True)
        if tier is not None:
            cols["tier"] = _tier(tier).value
        if credit_limit is not None:
            cols["credit_limit_cents"] = _money(credit_limit, "credit_limit")
        if po_required is not None:
            cols["po_required"] = int(po_required)
        if not cols:
            raise ValidationError("edit what? give --name, --tier, --credit-limit or --po-required", field="name")
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = customer_row(c, code)
            before = {k: row[k] for k in cols}
            c.execute(f"UPDATE customers SET {', '.join(f'{k} = ?' for k in cols)}, version = version + 1 WHERE id = ?",
                      (*cols.values(), row["id"]))
            self._customer_event(c, row["id"], row["code"], "edited", {"before": before, "after": cols}, now)
        return self.show(row["code"])

    # ---- addresses and contacts (reps too) ------------------------------------------------
    def add_address(self, code: str, kind: str, fields: Mapping[str, Any], *, default: bool = False) -> dict[str, Any]:
        """A new address; the customer's first of its kind becomes the default whatever `default` says."""
        self.ctx.require(Action.CUSTOMER_ADDRESS, code)
        if kind not in ADDRESS_KINDS:
            raise ValidationError(f"address kind {kind!r}: ship_to or bill_to", field="kind")
        addr = clean_address(fields, field=kind)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = customer_row(c, code)
            first = not c.execute("SELECT 1 FROM customer_addresses WHERE customer_id = ? AND kind = ?",
                                  (row["id"], kind)).fetchone()
            if default or first:
                c.execute("UPDATE customer_addresses SET is_default = 0 WHERE customer_id = ? AND kind = ?",
                          (row["id"], kind))
            cur = c.execute(
                """INSERT INTO customer_addresses (customer_id, kind, is_default, name, street, city, region, postcode,
                     country) VALUES (?,?,?,?,?,?,?,?,?)""",
                (row["id"], kind, int(default or first), addr["name"], "\n".join(addr["street"]), addr["city"],
                 addr["region"], addr["postcode"], addr["country"]))
            aid = int(cur.lastrowid or 0)
            self._customer_event(c, row["id"], row["code"], "address_added",
                        {"address_id": aid, "kind": kind, "default": bool(default or first), "address": addr}, now)
        return self._address(aid)

    def edit_address(self, address_id: int, fields: Mapping[str, Any], *, default: bool | None = None) -> dict[str, Any]:
        """Change some parts of an address (the rest stay); orders keep the snapshot they were given."""
        old = self._owned("customer_addresses", address_id, "address")
        merged = {**snapshot(address_dict(old)), **_given(fields)}
        addr = clean_address(merged, field=old["kind"])
        if default is False and old["is_default"]:
            raise ValidationError("make another address the default instead (--default on that one)", field="default")
        now = self.ctx.now()
        with self.ctx.write() as c:
            if default:
                c.execute("UPDATE customer_addresses SET is_default = 0 WHERE customer_id = ? AND kind = ?",
                          (old["customer_id"], old["kind"]))
            c.execute("""UPDATE customer_addresses SET name = ?, street = ?, city = ?, region = ?, postcode = ?, country = ?,
                           is_default = ?, version = version + 1 WHERE id = ?""",
                      (addr["name"], "\n".join(addr["street"]), addr["city"], addr["region"], addr["postcode"],
                       addr["country"], int(bool(default) or bool(old["is_default"])), address_id))
            self._customer_event(c, old["customer_id"], old["code"], "address_edited",
                        {"address_id": address_id, "before": snapshot(address_dict(old)), "after": addr,
                         "default": bool(default) or bool(old["is_default"])}, now)
        return self._address(address_id)

    def add_contact(self, code: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        self.ctx.require(Action.CUSTOMER_ADDRESS, code)
        contact = clean_contact(fields)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row = customer_row(c, code)
            cur = c.execute("INSERT INTO customer_contacts (customer_id, name, email, phone) VALUES (?,?,?,?)",
                            (row["id"], contact["name"], contact["email"], contact["phone"]))
            cid = int(cur.lastrowid or 0)
            self._customer_event(c, row["id"], row["code"], "contact_added", {"contact_id": cid, **contact}, now)
        return {"id": cid, **contact}

    def edit_contact(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        old = self._owned("customer_contacts", contact_id, "contact")
        contact = clean_contact({**contact_dict(old), **_given(fields)})
        now = self.ctx.now()
        with self.ctx.write() as c:
            c.execute("UPDATE customer_contacts SET name = ?, email = ?, phone = ?, version = version + 1 WHERE id = ?",
                      (contact["name"], contact["email"], contact["phone"], contact_id))
            self._customer_event(c, old["customer_id"], old["code"], "contact_edited",
                        {"contact_id": contact_id, "before": {k: old[k] for k in ("name", "email", "phone")},
                         "after": contact}, now)
        return {"id": contact_id, **contact}

    # ---- helpers -------------------------------------------------------------------------
    def _owned(self, table: str, item_id: int, what: str) -> Row:
        """An address or contact row with its customer's code, once the actor may change that customer's."""
        with self.ctx.store.read() as c:
            row = c.execute(f"SELECT t.*, c.code FROM {table} t JOIN customers c ON c.id = t.customer_id WHERE t.id = ?",
                            (item_id,)).fetchone()
        if row is None:
            raise NotFound(f"no {what} {item_id}", field=what)
        self.ctx.require(Action.CUSTOMER_ADDRESS, row["code"])
        return row

    def _address(self, address_id: int) -> dict[str, Any]:
        with self.ctx.store.read() as c:
            r = c.execute("SELECT * FROM customer_addresses WHERE id = ?", (address_id,)).fetchone()
        d = address_dict(r)
        d["line"] = address_line(d)
        return d

    def _customer_event(self, c: Connection, cid: int, code: str, action: str, data: dict[str, Any], now: Any) -> None:
        events.append(c, at=now, actor=self.ctx.actor.name, entity="customer", entity_id=cid, ref=code,
                      action=action, data=json.loads(json.dumps(data, default=str)))
