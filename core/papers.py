"""The papers that go with an order: the customer's acknowledgment and the warehouse's pick ticket.

Pure: an Order in, text or a self-contained printable HTML page out (inline CSS, no scripts, no external
files, every user field HTML-escaped). Writing them anywhere is the caller's job (db.outputs).
"""
from __future__ import annotations

from datetime import datetime
from html import escape

from core.addresses import address_lines
from core.models import Order
from core.money import fmt

#: how an HTML paper begins: the output guard lets `--html` replace only a file that starts so
HTML_MARKER = "<!DOCTYPE html>\n<!-- orderq paper -->"

_CSS = """body{font:11pt/1.35 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:16pt;margin:0 0 .3em}table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border-bottom:1px solid #bbb;padding:.25em .5em;text-align:left}td.n,th.n{text-align:right}
.box{display:inline-block;vertical-align:top;margin-right:3em}.muted{color:#555}
@media print{body{margin:1cm}}"""


def _expected(o: Order) -> str:
    return o.requested_date.isoformat() if o.requested_date else "to be confirmed"


def _contact(o: Order) -> str:
    if not o.contact:
        return ""
    return "  ".join(x for x in (o.contact.get("name"), o.contact.get("email"), o.contact.get("phone")) if x)


def ack_text(o: Order, now: datetime) -> str:
    """The order acknowledgment: what was ordered, at what price, where it goes, under which PO, and when."""
    out = [f"ORDER ACKNOWLEDGMENT  {o.number}", f"date {now:%Y-%m-%d}",
           f"customer {o.customer.code} {o.customer.name}", f"your PO {o.po_number or '-'}",
           f"expected delivery {_expected(o)}   ship by {o.ship_method or '-'}"]
    if _contact(o):
        out.append(f"contact {_contact(o)}")
    out += ["", "ship to:", *(f"  {x}" for x in address_lines(o.ship_to) or ["(no address)"])]
    if o.bill_to:
        out += ["bill to:", *(f"  {x}" for x in address_lines(o.bill_to))]
    out += ["", f"{'#':>3}  {'SKU':<12} {'description':<30} {'qty':>6} {'price':>12} {'disc%':>6} {'amount':>12}"]
    for ln in o.lines:
        out.append(f"{ln.line_no:>3}  {ln.sku:<12} {ln.description[:30]:<30} {ln.qty:>6} {fmt(ln.unit_price):>12} "
                   f"{ln.discount_pct:>6} {fmt(ln.amount):>12}")
    for ch in o.charges:
        out.append(f"{'':>3}  {ch.code:<12} {(ch.description or '')[:30]:<30} {'':>6} {'':>12} {'':>6} {fmt(ch.amount):>12}")
    out += [f"{'total':>75} {fmt(o.total):>12}"]
    if o.note:
        out += ["", f"note: {o.note}"]
    return "\n".join(out) + "\n"


def pick_text(o: Order) -> str:
    """The pick ticket: what to take from the shelves, how many, where it goes and how it ships."""
    out = [f"PICK TICKET  {o.number}", f"customer {o.customer.code} {o.customer.name}",
           f"ship by {o.ship_method or '-'}   requested {_expected(o)}   PO {o.po_number or '-'}",
           "", "ship to:", *(f"  {x}" for x in address_lines(o.ship_to) or ["(no address)"]), "",
           f"{'#':>3}  {'SKU':<12} {'description':<30} {'qty':>6}  picked"]
    for ln in o.lines:
        out.append(f"{ln.line_no:>3}  {ln.sku:<12} {ln.description[:30]:<30} {ln.qty:>6}  [    ]")
    out.append(f"{'units':>48} {sum(ln.qty for ln in o.lines):>6}")
    if o.note:
        out += ["", f"note: {o.note}"]
    return "\n".join(out) + "\n"


def _page(title: str, body: list[str]) -> str:
    return (f"{HTML_MARKER}\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _addr_html(label: str, a: dict | None) -> str:
    lines = "<br>".join(escape(x) for x in address_lines(a)) or "<span class=muted>(no address)</span>"
    return f"<div class=box><b>{escape(label)}</b><br>{lines}</div>"


def ack_html(o: Order, now: datetime) -> str:
    rows = [f"<tr><td>{ln.line_no}</td><td>{escape(ln.sku)}</td><td>{escape(ln.description)}</td>"
            f"<td class=n>{ln.qty}</td><td class=n>{fmt(ln.unit_price)}</td><td class=n>{ln.discount_pct}</td>"
            f"<td class=n>{fmt(ln.amount)}</td></tr>" for ln in o.lines]
    rows += [f"<tr><td></td><td>{escape(ch.code)}</td><td>{escape(ch.description or '')}</td><td></td><td></td><td></td>"
             f"<td class=n>{fmt(ch.amount)}</td></tr>" for ch in o.charges]
    body = [f"<h1>Order acknowledgment {escape(o.number)}</h1>",
            f"<p>Date {now:%Y-%m-%d} · Customer {escape(o.customer.code)} {escape(o.customer.name)} · "
            f"Your PO <b>{escape(o.po_number or '-')}</b> · Expected delivery <b>{escape(_expected(o))}</b> · "
            f"Ship by {escape(o.ship_method or '-')}</p>",
            _addr_html("Ship to", o.ship_to) + (_addr_html("Bill to", o.bill_to) if o.bill_to else ""),
            "<table><tr><th>#</th><th>SKU</th><th>Description</th><th class=n>Qty</th><th class=n>Price</th>"
            "<th class=n>Disc%</th><th class=n>Amount</th></tr>", *rows,
            f"<tr><th colspan=6 class=n>Total</th><th class=n>{fmt(o.total)}</th></tr></table>"]
    if _contact(o):
        body.append(f"<p class=muted>Contact: {escape(_contact(o))}</p>")
    if o.note:
        body.append(f"<p>Note: {escape(o.note)}</p>")
    return _page(f"Acknowledgment {o.number}", body)


def pick_html(o: Order) -> str:
    rows = [f"<tr><td>{ln.line_no}</td><td>{escape(ln.sku)}</td><td>{escape(ln.description)}</td>"
            f"<td class=n>{ln.qty}</td><td>☐</td></tr>" for ln in o.lines]
    body = [f"<h1>Pick ticket {escape(o.number)}</h1>",
            f"<p>Customer {escape(o.customer.code)} {escape(o.customer.name)} · Ship by <b>{escape(o.ship_method or '-')}</b>"
            f" · Requested {escape(_expected(o))} · PO {escape(o.po_number or '-')}</p>",
            _addr_html("Ship to", o.ship_to),
            "<table><tr><th>#</th><th>SKU</th><th>Description</th><th class=n>Qty</th><th>Picked</th></tr>", *rows,
            f"<tr><th colspan=3 class=n>Units</th><th class=n>{sum(ln.qty for ln in o.lines)}</th><th></th></tr></table>"]
    if o.note:
        body.append(f"<p>Note: {escape(o.note)}</p>")
    return _page(f"Pick ticket {o.number}", body)
