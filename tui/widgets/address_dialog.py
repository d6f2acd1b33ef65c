"""A ship-to typed for one order only (the customer is sending this one somewhere new): a small form of
the address's parts, checked by the same rule as the address book (core.addresses.clean_address), with
each refusal next to its field. Nothing is written here: the order is created with the address
(`HeaderInput.ship_to_address`), so the address book stays as it was.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.addresses import address_line, clean_address
from core.errors import OrderqError
from tui.widgets.form_dialog import Field, FormDialog

FIELDS = [Field("name", "Name", "who receives it"), Field("street", "Street", "street and number"),
          Field("street2", "Street (2nd line)", "optional"), Field("city", "City", "city"),
          Field("region", "Region", "state or region, optional"), Field("postcode", "Postcode", "optional"),
          Field("country", "Country", "country")]


def one_off_address_dialog(current: dict[str, Any] | None, keep: Callable[[dict[str, Any]], None]) -> FormDialog:
    """`keep(address)` gets the cleaned address when the rep submits a complete one; the dialog closes with
    its one-line form. `current`: the one-off typed before, to correct it."""
    cur = current or {}
    street = list(cur.get("street") or [])
    start = {"street": street[0] if street else "", "street2": " ".join(street[1:])}
    fields = [Field(f.name, f.label, f.hint, value=start.get(f.name, cur.get(f.name) or "")) for f in FIELDS]

    def submit(values: dict[str, str]) -> str:
        typed = {k: v for k, v in values.items() if k != "street2"}
        typed["street"] = [x for x in (values["street"], values["street2"]) if x.strip()]
        try:
            addr = clean_address(typed, field="ship_to")
        except OrderqError as e:
            e.field = (e.field or "").removeprefix("ship_to.") or None
            raise
        keep(addr)
        return address_line(addr)

    return FormDialog("Ship to, for this order only", fields, submit)
