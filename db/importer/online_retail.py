"""Online-retail (UCI) import: each invoice one whole order wherever its rows sit in the file (a first pass
finds the invoices whose rows are not consecutive, and the second parks their runs until complete:
db.importer.assemble); each invoice's Country becomes its ship-to. Cancellations (`C` invoices) are matched
after the orders, each against purchases of the same customer and SKU that are earlier (an earlier minute,
or the same minute and a lower invoice number) and have shipped; what it cannot take back is rejected with
the reason."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.addresses import source_address
from core.enums import Channel
from core.intake import (
    CHARGE_CODES, IMPORT_OPENING_STOCK, Reject, SourceLine, allocate, amount_cents, invoice_seq, parse_retail_row,
    plan_invoice, reject_line,
)
from db.convert import ts
from db.importer.accounting import Importer
from db.importer.assemble import Assembler, scattered_keys
from db.importer.bulk import Cust
from db.importer.source_files import first_fields, retail_rows

#: the file's InvoiceDate is UK local time
UK = ZoneInfo("Europe/London")


def import_online_retail(imp: Importer, path: Path) -> None:
    """Two passes: the first finds the invoices whose rows are not consecutive, the second imports every
    invoice whole (see db.importer.assemble); cancellations go last."""
    def key(fields: list[str]) -> str | None:
        return fields[0].strip() if fields else None

    with retail_rows(path) as (_rows, _counting):
        pass  # the header is checked before the first pass reads anything
    assembler = Assembler(imp.bulk.conn, scattered_keys(first_fields(path)))
    size = path.stat().st_size
    dates: dict[str, datetime] = {}
    s = imp.s
    pending: list[tuple[str, list[SourceLine]]] = []
    try:
        with retail_rows(path) as (rows, counting):
            for raw in assembler.groups(rows, key):
                s.rows_read += len(raw)
                if len(dates) > 256:
                    dates.clear()
                lines: list[SourceLine] = []
                for n, fields in raw:
                    got = parse_retail_row(n, fields, UK, dates, now=imp.bulk.now)
                    if type(got) is Reject:
                        imp.reject(got)
                    else:
                        lines.append(got)  # type: ignore[arg-type]
                if not lines:
                    continue
                ref = lines[0].ref
                if imp.already(ref, lines):
                    continue
                plan = plan_invoice(lines)
                for rej in plan.rejects:
                    imp.reject(rej)
                if plan.cancellation:
                    if plan.goods:  # matched after the orders, against purchases earlier than it
                        pending.append((ref, plan.goods))
                    continue
                if plan.goods or plan.charges:
                    _retail_order(imp, ref, plan.goods, plan.charges)
                imp.invoice_done(counting.done, size)
    finally:
        assembler.close()
    _cancellations(imp, pending)
    if imp.progress:
        imp.progress(size, size)


def _retail_customer(imp: Importer, ln: SourceLine) -> Cust:
    """The invoice's customer; online-retail's Country becomes its default ship-to's country."""
    address = source_address({"country": ln.country}) if ln.country else None
    if ln.customer:
        return imp.bulk.ensure_customer(ln.customer, f"Online customer {ln.customer}", ln.country or None,
                                        address=address)
    country = ln.country or "Unknown"
    return imp.bulk.ensure_customer(f"GUEST-{country.upper().replace(' ', '-')}", f"Guest checkout ({country})",
                                    country, known=False, address=address)


def _retail_order(imp: Importer, ref: str, goods: list[SourceLine], charges: list[SourceLine]) -> None:
    b = imp.bulk
    first = (goods or charges)[0]  # an invoice of charges only is a known customer's order of charges
    cust = _retail_customer(imp, first)
    products = b.products
    for ln in goods:
        if ln.sku not in products:
            b.ensure_product(ln.sku, ln.description, ln.price_e4, IMPORT_OPENING_STOCK)
    ch = [(ln.sku, CHARGE_CODES[ln.sku][0], ln.description or CHARGE_CODES[ln.sku][1], amount_cents(ln.qty, ln.price_e4))
          for ln in charges]
    imp.order(ref=ref, customer=cust, channel=Channel.ONLINE, order_type="standard",
              received_at=first.received_at, goods=goods, charges=ch,  # type: ignore[arg-type]
              ship_to=imp.country_ship_to(first))


def _cancellations(imp: Importer, pending: list[tuple[str, list[SourceLine]]]) -> None:
    """Cancellations go last, each matched only against purchases earlier than it (by time, then
    invoice number): deferring them lets the orders stream in big batches, and where a purchase sits
    in the file does not change what it can be matched to."""
    if not pending:
        return
    b = imp.bulk
    b.flush()
    keys = set()
    for _ref, lines in pending:
        cust = b.customers.get(lines[0].customer or "")
        if cust is not None:
            keys.update((cust.id, ln.sku) for ln in lines)
    b.prepare_matching(keys)
    for ref, lines in pending:
        _cancellation(imp, ref, lines)
        imp.invoice_done()


def _cancellation(imp: Importer, ref: str, lines: list[SourceLine]) -> None:
    """A `C` invoice: each line takes back what it can from earlier shipped lines of the same customer and
    SKU; what is left of it is rejected with the reason (nothing bought earlier, or not shipped)."""
    b = imp.bulk
    cust = b.customers.get(lines[0].customer or "")
    seq = invoice_seq(ref)
    used: Counter = Counter()
    matched: list[tuple[int, int, int, str, int, int, str]] = []
    rows = 0
    for ln in lines:
        want = -ln.qty
        cands = b.candidates(cust.id, ln.sku, ts(ln.received_at), seq) if cust else []
        shipped = [c for c in cands if c.shipped]
        avail = [(c.line_id, c.returnable - used[c.line_id]) for c in shipped]
        alloc, left = allocate(want, avail)
        paid = {c.line_id: (c.order_id, c.paid_e4) for c in shipped}
        for lid, take in alloc:
            used[lid] += take
            oid, paid_e4 = paid[lid]
            # never refund more per unit than the customer paid on the matched line
            matched.append((oid, lid, take, ln.sku, min(ln.price_e4, paid_e4), ln.row, f"SO-{oid:06d}"))
        if alloc:
            rows += 1
        if not left:
            continue
        part = f"{want - left} of {want} taken back; " if alloc else ""
        waiting = sum(c.returnable for c in cands if not c.shipped)
        if waiting:
            reason, why = "cancellation-not-shipped", (
                f"{ref} cancels {want} × {ln.sku}: {part}customer {ln.customer} bought {waiting} earlier on "
                "orders that have not shipped, and a return takes back only shipped goods")
        else:
            have = sum(max(a, 0) for _lid, a in avail)
            reason, why = "cancellation-unmatched", (
                f"{ref} cancels {want} × {ln.sku}: {part}customer {ln.customer} bought {have} earlier "
                "that are not yet returned")
        imp.reject(reject_line(replace(ln, qty=-left), reason, why))
        if alloc:
            imp.s.partly_returned_rows += 1
    if matched:
        assert cust is not None
        refund = b.add_return(ref=ref, customer=cust, requested_at=lines[0].received_at, lines=matched)
        imp.s.returns += 1
        imp.s.return_lines += len(matched)
        imp.s.returned_rows += rows
        imp.s.refund_total_cents += refund
