"""The order header on the entry form: ship-to (F4 lists the customer's addresses, or `+` types one for this
order only), bill-to and contact (F4 lists them too), PO number, requested date, shipping method and note, plus what the rep should see while the customer is on the line: the
latest orders and the open balance against the credit limit.

Enter walks ship-to → PO → lines, so an order with the default ship-to and a PO costs two Enters and the
PO's own keys; the date, method and note are a Tab away (Enter there moves on as well). A typed "2" in
the ship-to field picks the second address without opening the list; bill-to and contact are a Tab away
and take a typed number the same way (blank: the customer's default). Errors sit under their field.
"""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from core.addresses import address_line
from tui.widgets.address_dialog import one_off_address_dialog
from core.errors import ValidationError
from core.models import Customer
from core.money import fmt
from db.service.order_header import HeaderInput
from tui.widgets.input_aids import CodeSuggester, put
from tui.widgets.prompt_list import PromptList

#: error label per field the service may name
_ERROR_LABEL = {"ship_to": "hdr-ship-error", "bill_to": "hdr-party-error", "contact": "hdr-party-error",
                "po_number": "hdr-details-error", "requested_date": "hdr-details-error",
                "ship_method": "hdr-details-error", "note": "hdr-note-error"}
_FIELD_INPUT = {"ship_to": "hdr-ship-to", "bill_to": "hdr-bill-to", "contact": "hdr-contact", "po_number": "hdr-po", "requested_date": "hdr-date",
                "ship_method": "hdr-method", "note": "hdr-note"}
#: Enter in a header field focuses the next one; None: the lines grid
_NEXT = {"hdr-ship-to": "hdr-po", "hdr-bill-to": "hdr-contact", "hdr-contact": "hdr-po", "hdr-po": None, "hdr-date": "hdr-method", "hdr-method": "hdr-note", "hdr-note": None}

#: what the ship-to field holds for an address typed for this order only
ONE_OFF = "+"
#: the picks beside ship-to: input id -> (header field, what the F4 list is titled)
_PARTIES = {"hdr-bill-to": ("bill_to", "Bill to"), "hdr-contact": ("contact", "Contact")}


def contact_line(c: dict[str, Any]) -> str:
    return "  ".join(x for x in (c.get("name"), c.get("email"), c.get("phone")) if x)


def _party_field(label: str, input_id: str, info_id: str, *, label_class: str = "hdr-label") -> ComposeResult:
    """A party picker (ship-to, bill-to, contact): its label, the number typed (1 is the default), and
    the line that says whom the number names."""
    yield Label(label, classes=label_class)
    yield Input(placeholder="1", id=input_id, compact=True, select_on_focus=False)
    yield Label("", id=info_id)


class HeaderForm(Vertical):
    DEFAULT_CSS = """
    HeaderForm { height: auto; }
    HeaderForm .hdr-row { height: 1; }
    HeaderForm .hdr-label { width: 10; }
    HeaderForm .hdr-short { width: 10; padding-left: 2; }
    HeaderForm #hdr-ship-to { width: 6; }
    HeaderForm #hdr-ship-info { width: 1fr; padding-left: 1; color: $text-muted; }
    HeaderForm #hdr-bill-to, HeaderForm #hdr-contact { width: 4; }
    HeaderForm #hdr-bill-to-info, HeaderForm #hdr-contact-info { width: 1fr; padding-left: 1; color: $text-muted; }
    HeaderForm #hdr-po { width: 24; }
    HeaderForm #hdr-date { width: 13; }
    HeaderForm #hdr-method { width: 14; }
    HeaderForm #hdr-note { width: 1fr; }
    HeaderForm Input.-invalid { color: $error; }
    HeaderForm .hdr-error { color: $error; padding-left: 10; display: none; }
    HeaderForm #hdr-history { color: $text-muted; height: 4; padding-left: 10; }
    """

    def __init__(self, methods: list[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.methods = methods
        self.addresses: list[dict[str, Any]] = []
        #: the bill-to addresses and the contacts, by header field
        self.parties: dict[str, list[dict[str, Any]]] = {"bill_to": [], "contact": []}
        self.one_off: dict[str, Any] | None = None
        self.customer_code: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="hdr-row"):
            yield from _party_field("Ship to ", "hdr-ship-to", "hdr-ship-info")
        yield Label("", id="hdr-ship-error", classes="hdr-error")
        with Horizontal(classes="hdr-row"):
            yield from _party_field("Bill to ", "hdr-bill-to", "hdr-bill-to-info")
            yield from _party_field("Contact ", "hdr-contact", "hdr-contact-info", label_class="hdr-short")
        yield Label("", id="hdr-party-error", classes="hdr-error")
        with Horizontal(classes="hdr-row"):
            yield Label("PO ", classes="hdr-label")
            yield Input(placeholder="customer PO", id="hdr-po", compact=True, select_on_focus=False)
            yield Label("Date ", classes="hdr-short")
            yield Input(placeholder="YYYY-MM-DD", id="hdr-date", compact=True, select_on_focus=False)
            yield Label("Ship by ", classes="hdr-short")
            yield Input(placeholder=self.methods[0], id="hdr-method", compact=True, select_on_focus=False,
                        suggester=CodeSuggester(self.methods))
        yield Label("", id="hdr-details-error", classes="hdr-error")
        with Horizontal(classes="hdr-row"):
            yield Label("Note ", classes="hdr-label")
            yield Input(placeholder="for the desk and the warehouse", id="hdr-note", compact=True, select_on_focus=False)
        yield Label("", id="hdr-note-error", classes="hdr-error")
        yield Static("", id="hdr-history")

    # ---- parts ---------------------------------------------------------------------------
    def field(self, wid: str) -> Input:
        return self.query_one(f"#{wid}", Input)

    @property
    def ship_input(self) -> Input:
        return self.field("hdr-ship-to")

    def owns(self, widget: object) -> bool:
        return isinstance(widget, Input) and widget.id in _NEXT

    def next_after(self, widget: Input) -> Input | None:
        """The field Enter moves to from `widget`; None: on to the lines."""
        nxt = _NEXT.get(widget.id or "")
        return self.field(nxt) if nxt else None

    @property
    def dirty(self) -> bool:
        return any(self.field(w).value.strip() for w in ("hdr-po", "hdr-date", "hdr-note"))

    # ---- the customer ----------------------------------------------------------------------
    def set_customer(self, cust: Customer | None, addresses: list[dict[str, Any]], recent: list[dict[str, Any]], *,
                     bill_to: list[dict[str, Any]] | None = None, contacts: list[dict[str, Any]] | None = None) -> None:
        """Show the customer's default ship-to, bill-to and contact, latest orders and balance against the
        credit limit."""
        self.customer_code = cust.code if cust else None
        self.addresses = addresses
        self.parties = {"bill_to": bill_to or [], "contact": contacts or []}
        self.one_off = None
        for wid in ("hdr-ship-to", *_PARTIES):
            with self.field(wid).prevent(Input.Changed):
                self.field(wid).value = ""
        self.show_ship()
        for wid in _PARTIES:
            self.show_party(wid)
        history = self.query_one("#hdr-history", Static)
        if cust is None:
            put(history, "")
            return
        left = cust.credit_limit - cust.open_balance
        lines = [f"credit {fmt(cust.credit_limit)} · balance {fmt(cust.open_balance)} · available {fmt(left)}"
                 + ("  ·  PO required" if cust.po_required else "") + "   latest orders:"]
        for o in recent:
            lines.append(f"{o['number']}  {o['received_at'][:10]}  {o['state'].replace('_', ' '):<11} "
                         f"{o['total']:>10}  {('PO ' + o['po_number']) if o['po_number'] else ''}")
        if not recent:
            lines.append("no earlier orders")
        put(history, "\n".join(lines))

    def chosen(self) -> dict[str, Any] | None:
        """The address the ship-to field stands for: blank is the default (the first listed)."""
        text = self.ship_input.value.strip()
        if text == ONE_OFF:
            if self.one_off is None:
                raise ValidationError("ship-to +: press Enter to type the address for this order", field="ship_to")
            return self.one_off
        if not self.addresses:
            if text:
                raise ValidationError(f"ship-to {text!r}: the customer has no address on file; + types one"
                                      " for this order", field="ship_to")
            return None
        if not text:
            return self.addresses[0]
        if text.isdigit() and 1 <= int(text) <= len(self.addresses):
            return self.addresses[int(text) - 1]
        raise ValidationError(f"ship-to {text!r}: pick 1 … {len(self.addresses)} (F4 lists them), or + for an"
                              " address for this order only", field="ship_to")

    def picked(self, wid: str) -> dict[str, Any] | None:
        """The bill-to or contact the field `wid` stands for; blank: None (the service takes the default)."""
        field, what = _PARTIES[wid]
        items = self.parties[field]
        text = self.field(wid).value.strip()
        if not text:
            return None
        if text.isdigit() and 1 <= int(text) <= len(items):
            return items[int(text) - 1]
        if not items:
            raise ValidationError(f"{what.lower()} {text!r}: the customer has none on file", field=field)
        raise ValidationError(f"{what.lower()} {text!r}: pick 1 … {len(items)} (F4 lists them)", field=field)

    def _describe(self, field: str, item: dict[str, Any]) -> str:
        return contact_line(item) if field == "contact" else address_line(item)

    def show_party(self, wid: str) -> None:
        field, _what = _PARTIES[wid]
        info = self.query_one(f"#{wid}-info", Label)
        items = self.parties[field]
        if self.customer_code is None:
            put(info, "")
            return
        try:
            item = self.picked(wid)
        except ValidationError as e:
            self.show_error(field, e.message)
            return
        self.show_error(field, None)
        if item is None:
            put(info, f"{self._describe(field, items[0])} (default)" if items else "none on file")
            return
        put(info, f"{items.index(item) + 1} of {len(items)}: {self._describe(field, item)}")

    def show_ship(self) -> None:
        info = self.query_one("#hdr-ship-info", Label)
        if self.customer_code is None:
            put(info, "")
            return
        try:
            addr = self.chosen()
        except ValidationError as e:
            self.show_error("ship_to", e.message)
            return
        self.show_error("ship_to", None)
        if addr is None:
            put(info, "this customer has no ship-to address on file (+ types one for this order)")
            return
        if addr is self.one_off:
            put(info, f"this order only: {address_line(addr)}")
            return
        n = self.addresses.index(addr) + 1
        put(info, f"{n} of {len(self.addresses)}: {address_line(addr)}" + (" (default)" if addr.get("default") else ""))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "hdr-ship-to":
            self.show_ship()
        elif event.input.id in _PARTIES:
            self.show_party(event.input.id)
        elif event.input.id in _FIELD_INPUT.values():
            for f, wid in _FIELD_INPUT.items():
                if wid == event.input.id:
                    self.show_error(f, None)

    def prompt_ship_to(self) -> None:
        """F4: the customer's ship-to addresses; the pick goes into the field and Enter moves on."""
        if self.customer_code is None:
            self.app.bell()
            return
        items = [(str(i), address_line(a) + (" (default)" if a.get("default") else ""))
                 for i, a in enumerate(self.addresses, start=1)]
        items.append((ONE_OFF, "a new address, for this order only"))

        def picked(value: str | None) -> None:
            if value == ONE_OFF:
                self.prompt_one_off()
                return
            if value is not None:
                self.ship_input.value = value
            self.screen.set_focus(self.ship_input)

        self.app.push_screen(PromptList("Ship to", items), picked)

    def wants_one_off(self) -> bool:
        """`+` typed in the ship-to field and no address typed yet: Enter opens the form."""
        return self.ship_input.value.strip() == ONE_OFF and self.one_off is None

    def prompt_one_off(self) -> None:
        """The address form for this order only; kept when complete, the field then reads `+`."""
        def keep(addr: dict[str, Any]) -> None:
            self.one_off = addr

        def done(_line: str | None) -> None:
            if self.one_off is not None:
                with self.ship_input.prevent(Input.Changed):
                    self.ship_input.value = ONE_OFF
                self.show_ship()
            self.screen.set_focus(self.ship_input)

        self.app.push_screen(one_off_address_dialog(self.one_off, keep), done)

    def prompt_party(self, wid: str) -> None:
        """F4 on bill-to or contact: the customer's list; the pick goes into the field."""
        field, what = _PARTIES[wid]
        items = self.parties[field]
        if not items:
            self.app.bell()
            return
        rows = [(str(i), self._describe(field, x)) for i, x in enumerate(items, start=1)]

        def picked(value: str | None) -> None:
            if value is not None:
                self.field(wid).value = value
            self.screen.set_focus(self.field(wid))

        self.app.push_screen(PromptList(what, rows), picked)

    def prompt_for(self, widget: object) -> bool:
        """F4 in one of the header's pick fields; False when `widget` is not one."""
        if widget is self.ship_input:
            self.prompt_ship_to()
        elif isinstance(widget, Input) and widget.id in _PARTIES:
            self.prompt_party(widget.id)
        else:
            return False
        return True

    # ---- the values ------------------------------------------------------------------------
    def header_input(self, *, duplicate_po_ok: bool = False) -> HeaderInput:
        """What the rep typed, as the service takes it; a field that cannot be read is refused here."""
        addr = self.chosen()
        one_off = addr is not None and addr is self.one_off
        bill, contact = self.picked("hdr-bill-to"), self.picked("hdr-contact")
        method = self.field("hdr-method").value.strip()
        return HeaderInput(ship_to=addr["id"] if addr and not one_off else None,
                           ship_to_address=addr if one_off else None,
                           bill_to=bill["id"] if bill else None, contact=contact["id"] if contact else None,
                           po_number=self.field("hdr-po").value,
                           requested_date=self.field("hdr-date").value, ship_method=method or None,
                           note=self.field("hdr-note").value or None, duplicate_po_ok=duplicate_po_ok)

    def show_error(self, field: str, message: str | None) -> Input | None:
        """Show (or clear) a refusal under its field; the field's input to focus, if it has one."""
        label_id = _ERROR_LABEL.get(field.split(".")[0])
        if label_id is None:
            return None
        err = self.query_one(f"#{label_id}", Label)
        put(err, f"⚠ {message}" if message else "")
        err.display = bool(message)
        wid = _FIELD_INPUT.get(field.split(".")[0])
        if wid is None:
            return None
        w = self.field(wid)
        w.set_class(bool(message), "-invalid")
        return w

    def reset(self) -> None:
        for wid in _NEXT:
            w = self.field(wid)
            with w.prevent(Input.Changed):
                w.value = ""
            w.set_class(False, "-invalid")
        for f in ("ship_to", "bill_to", "po_number", "note"):
            self.show_error(f, None)
        self.set_customer(None, [], [])

