"""Shipping, booking stock received and an EDI order's own keys (raw view, mapping a partner code) from
the order screen: each opens its dialog (tui.widgets.ship_dialogs, tui.widgets.edi_order_view) and, when
it saved something, reloads the screen and says what was done.

A mixin of OrderScreen (its own module so the screen keeps to its layout and the keys that move an order
on). It uses the screen's `desk`, `number`, `order`, `edi`, `token`, `_poke`, `reload` and `notify`.
"""
from __future__ import annotations

from core import orders as machine
from core.errors import DomainError
from tui.widgets.edi_order_view import RawView, map_item_dialog
from tui.widgets.ship_dialogs import receive_dialog, ship_dialog


class FulfilKeys:
    def action_ship(self) -> None:
        """s: the ship form (tui.widgets.ship_dialogs); a state that cannot ship says so at once."""
        try:
            machine.transition(self.order.state, "ship")
        except DomainError as e:
            self.notify(e.message, severity="warning", title="Ship")
            return
        dialog = ship_dialog(self.desk, self.order)
        if dialog is None:
            self.notify("nothing is left to ship on this order", severity="warning")
            return
        self.app.push_screen(dialog, self._fulfilment_done)

    def action_receive_stock(self) -> None:
        """k: book stock received, prefilled with this order's first short line."""
        stock = {p.sku: p.stock for p in self.desk.catalog.products()}
        self.app.push_screen(receive_dialog(self.desk, self.order, stock), self._fulfilment_done)

    def action_edi_raw(self) -> None:
        """w: the EDI message as it arrived (tui.widgets.edi_order_view)."""
        if self.edi is None:
            self.notify("this order did not come by EDI", severity="warning")
            return
        self.app.push_screen(RawView(self.edi))

    def action_edi_map(self) -> None:
        """F4: map an unknown partner item code to a SKU; the order re-evaluates."""
        dialog = map_item_dialog(self.desk, self.number, self.edi, self.token) if self.edi else None
        if dialog is None:
            self.notify("no unknown partner item code on this order", severity="warning")
            return
        self.app.push_screen(dialog, self._fulfilment_done)

    def _fulfilment_done(self, msg: str | None) -> None:
        if msg is None:
            return
        self._poke()
        self.reload()
        self.notify(msg)
