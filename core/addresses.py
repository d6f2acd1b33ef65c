"""Addresses, contacts, PO numbers and requested dates: what the order header holds, checked before
anything is written. Pure: text in, clean values (or one ValidationError naming the field) out.

An address is kept as a plain dict (its JSON snapshot on an order is the same dict), so a later edit of
the customer's address book never rewrites what an order was shipped to.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from core.errors import ValidationError

#: the longest customer PO number (EDI 850 BEG03 and most ERPs stop at 22–35)
PO_MAX = 35
#: the longest name, street line, city … a rep may type (a label printer's line is shorter)
FIELD_MAX = 100
#: street lines on one address (the rest of a label is name, city line and country)
STREET_LINES = 3
ADDRESS_KINDS = ("ship_to", "bill_to")
#: the parts of an address, in the order a label prints them
ADDRESS_KEYS = ("name", "street", "city", "region", "postcode", "country")
_REQUIRED = ("name", "city", "country")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_text(value: Any, *, field: str, required: bool = False, limit: int = FIELD_MAX,
               label: str | None = None) -> str | None:
    """One line of typed text: stripped, no control characters, at most `limit` characters."""
    what = label or field.replace("_", "-").replace(".", " ")
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise ValidationError(f"{what} is empty", field=field)
        return None
    if _CONTROL.search(text):
        raise ValidationError(f"{what} holds a control character", field=field)
    if len(text) > limit:
        raise ValidationError(f"{what} is {len(text)} characters; at most {limit}", field=field)
    return text


def clean_address(fields: Mapping[str, Any], *, field: str = "ship_to", complete: bool = True) -> dict[str, Any]:
    """An address as the store keeps it: name, street lines, city, region, postcode, country.

    `complete`: a typed address needs a name, a street line, a city and a country (an incomplete one
    cannot be shipped to); an imported one keeps what its source had (online-retail gives a country only)."""
    unknown = sorted(set(fields) - set(ADDRESS_KEYS))
    if unknown:
        raise ValidationError(f"{field.replace('_', '-')}: unknown address part {unknown[0]!r} ({', '.join(ADDRESS_KEYS)})", field=field)
    out: dict[str, Any] = {}
    for key in ADDRESS_KEYS:
        if key == "street":
            raw = fields.get("street") or []
            lines = [raw] if isinstance(raw, str) else list(raw)
            lines = [ln for ln in (clean_text(x, field=f"{field}.street") for x in lines) if ln]
            if len(lines) > STREET_LINES:
                raise ValidationError(f"{field.replace('_', '-')}: at most {STREET_LINES} street lines", field=f"{field}.street")
            if complete and not lines:
                raise ValidationError(f"{field.replace('_', '-')}: the street is empty (an address needs a street line)",
                                      field=f"{field}.street")
            out["street"] = lines
        else:
            val = clean_text(fields.get(key), field=f"{field}.{key}", required=complete and key in _REQUIRED)
            out[key] = val if val is not None else ("" if key in _REQUIRED else None)
    if not complete and not any(out[k] for k in ADDRESS_KEYS):
        raise ValidationError(f"{field.replace('_', '-')}: the address is empty", field=field)
    return out


def address_lines(a: Mapping[str, Any] | None) -> list[str]:
    """The address as a label prints it, one part a line (empty parts left out)."""
    if not a:
        return []
    city = " ".join(x for x in (a.get("postcode"), a.get("city")) if x)
    if a.get("region"):
        city = f"{city}, {a['region']}" if city else a["region"]
    return [x for x in (a.get("name"), *(a.get("street") or []), city, a.get("country")) if x]


def address_line(a: Mapping[str, Any] | None) -> str:
    """The address on one line, for a list row or the checklist."""
    return ", ".join(address_lines(a))


def place(city: str | None, country: str | None) -> str:
    """"Vienna, Austria": what tells two same-named customers apart in a list."""
    return ", ".join(x for x in (city, country) if x)


def clean_contact(fields: Mapping[str, Any], *, field: str = "contact") -> dict[str, Any]:
    out = {"name": clean_text(fields.get("name"), field=f"{field}.name", required=True),
           "email": clean_text(fields.get("email"), field=f"{field}.email"),
           "phone": clean_text(fields.get("phone"), field=f"{field}.phone", limit=40)}
    if out["email"] and not _EMAIL.match(out["email"]):
        raise ValidationError(f"{field}: {out['email']!r} is not an email address", field=f"{field}.email")
    return out


def clean_po(value: Any) -> str | None:
    """The customer's PO number: at most PO_MAX characters, one line; None when not given."""
    return clean_text(value, field="po_number", limit=PO_MAX, label="PO number")


def parse_requested_date(value: Any, *, field: str = "requested_date") -> date | None:
    """A requested delivery date as typed: YYYY-MM-DD (a time of day means nothing to a delivery)."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"requested date {text!r} is not a date (YYYY-MM-DD)", field=field) from None


#: how far ahead a requested delivery date may lie (a typo such as 2205 is caught, a next-year date is not)
REQUESTED_AHEAD_DAYS = 731


def check_requested_ahead(requested: date | None, today: date) -> None:
    if requested is not None and (requested - today).days > REQUESTED_AHEAD_DAYS:
        raise ValidationError(f"requested date {requested.isoformat()} is more than two years ahead",
                              field="requested_date")


def past_date_reason(requested: date | None, today: date) -> str | None:
    """Why a requested date cannot be met as asked, or None. A rep is refused; a partner's or an
    import's order is queued for a rep with this reason."""
    if requested is not None and requested < today:
        return f"requested date {requested.isoformat()} is in the past"
    return None


def pick_ship_method(value: Any, methods: Sequence[str]) -> str:
    """A shipping method from the rules' list (the first is the default); else a refusal listing them."""
    text = "" if value is None else str(value).strip()
    if not text:
        return methods[0]
    for m in methods:
        if m.casefold() == text.casefold():
            return m
    raise ValidationError(f"unknown shipping method {text!r} ({', '.join(methods)})", field="ship_method")


def _source_text(value: Any, limit: int = FIELD_MAX) -> str | None:
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    return text[:limit] or None


def source_address(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """An address as an import's source gives it, kept as far as it goes (online-retail: a country only);
    None when it names nothing. A source is not refused for a stray control character or a long field: those
    become a space or are cut, so an order is never lost over its label."""
    street = [s for s in (_source_text(x) for x in (fields.get("street") or [])) if s][:STREET_LINES]
    out = {"name": _source_text(fields.get("name")), "street": street, "city": _source_text(fields.get("city")),
           "region": _source_text(fields.get("region")), "postcode": _source_text(fields.get("postcode")),
           "country": _source_text(fields.get("country"))}
    if not any(out.values()):
        return None
    for key in _REQUIRED:
        out[key] = out[key] or ""
    return out


def source_contact(name: Any, phone: Any = None, email: Any = None) -> dict[str, Any] | None:
    """A contact as an import's source gives it; None without a name."""
    who = _source_text(name)
    return {"name": who, "email": _source_text(email), "phone": _source_text(phone, 40)} if who else None


#: the order header's columns, in the order both the live and the bulk path write them (and events show them)
HEADER_COLUMNS = ("ship_to", "ship_to_address_id", "bill_to", "contact", "po_number", "requested_date", "ship_method",
                  "note")
_SNAPSHOTS = ("ship_to", "bill_to", "contact")


def header_cols(*, ship_to: Mapping[str, Any] | None, ship_to_address_id: int | None, bill_to: Mapping[str, Any] | None,
                contact: Mapping[str, Any] | None, po_number: str | None, requested_date: date | None,
                ship_method: str | None, note: str | None) -> dict[str, Any]:
    """The orders columns of a header: snapshots as JSON text. One builder, so that an imported order's row is
    exactly the row live entry writes for the same input (tests/intake/test_bulk_equals_live)."""
    def dumps(v: Mapping[str, Any] | None) -> str | None:
        return json.dumps(v, ensure_ascii=False) if v else None

    return {"ship_to": dumps(ship_to), "ship_to_address_id": ship_to_address_id, "bill_to": dumps(bill_to),
            "contact": dumps(contact), "po_number": po_number,
            "requested_date": requested_date.isoformat() if requested_date else None, "ship_method": ship_method,
            "note": note or None}


def header_event(cols: Mapping[str, Any]) -> dict[str, Any]:
    """The header as an event records it: snapshots as objects, not JSON text."""
    return {k: (json.loads(v) if k in _SNAPSHOTS and v else v) for k, v in cols.items()}
