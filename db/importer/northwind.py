"""Northwind import (the folder of its CSV files): customers with their address and contact (ContactName,
Phone), products with their stock, and each order with its ship-to (Ship*), requested date (RequiredDate),
shipping method (ShipVia, through NORTHWIND_SHIP_METHODS) and freight. A shipped order is history on its
own dates (OrderDate, RequiredDate as due, ShippedDate); an open one is live work, and its RequiredDate,
long past, queues it for a rep with that reason."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.addresses import pick_ship_method, source_address, source_contact
from core.enums import Channel
from core.errors import ValidationError
from core.intake import REJECT_REASONS, Reject, SourceLine, amount_cents, price_e4, reject_line
from core.when import AHEAD, DUE_AHEAD, check_window
from db.importer.accounting import Importer
from db.importer.bulk import Goods

#: Northwind's three shippers as the default rules' ship_methods name them: Speedy Express is the fast
#: courier, United Package the parcel service, Federal Shipping the freight line. A shipper not listed here
#: keeps its own name, which a rules file may list; a name the rules lack rejects its order (bad-row).
NORTHWIND_SHIP_METHODS = {"Speedy Express": "express", "United Package": "ground", "Federal Shipping": "freight"}

def import_northwind(imp: Importer, folder: Path) -> None:
    b = imp.bulk
    s = imp.s

    def read(name: str) -> Iterator[tuple[int, dict[str, str]]]:
        with open(folder / name, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            for rec in reader:
                s.rows_read += 1
                yield reader.line_num, {k: (None if v == "NULL" else v) for k, v in rec.items()}

    def when(text: str | None, field: str, ahead: timedelta = AHEAD) -> datetime | None:
        """A Northwind date, in the date window (`core.when`); outside it, the order is rejected."""
        if not text:
            return None
        return check_window(datetime.fromisoformat(text).replace(tzinfo=UTC), b.now, field=field, ahead=ahead)

    def lookup(name: str, key: str, value: str) -> dict[str, str]:
        """A small code table (categories, shippers): read for names, not imported itself."""
        if not (folder / name).exists():
            return {}
        with open(folder / name, encoding="utf-8", newline="") as fh:
            return {r[key]: r[value] for r in csv.DictReader(fh)}

    cats = lookup("categories.csv", "categoryID", "categoryName")
    shippers = lookup("shippers.csv", "shipperID", "companyName")

    def ship_method(via: str | None) -> str | None:
        """The rules' shipping method for a ShipVia, or None when the order names no shipper."""
        if not via:
            return None
        if via not in shippers:
            raise ValidationError(f"shipVia {via} is not a shipper in shippers.csv")
        name = shippers[via]
        return pick_ship_method(NORTHWIND_SHIP_METHODS.get(name, name), b.rules.ship_methods)

    # master data rows are counted as read and end as customers/products (or were there already)
    for _row, r in read("customers.csv"):
        address = source_address({"name": r["companyName"], "street": [r.get("address")], "city": r.get("city"),
                                  "region": r.get("region"), "postcode": r.get("postalCode"),
                                  "country": r.get("country")})
        contact = source_contact(r.get("contactName"), r.get("phone"))
        b.ensure_customer(r["customerID"], r["companyName"] or r["customerID"], r.get("country"),
                          address=address, bill_to=True, contact=contact)
        s.other_rows += 1
    for row, r in read("products.csv"):
        try:  # a malformed field rejects its row, like every other format's rows (never a traceback)
            price, stock = price_e4(r["unitPrice"] or "0"), int(r["unitsInStock"] or 0)
        except ValueError as e:
            imp.reject(Reject(row, "bad-row", f"product {r['productID']}: {e}", (r["productID"] or "",)))
            continue
        b.ensure_product(f"NW-{r['productID']}", r["productName"] or "", price, stock,
                         category=cats.get(r["categoryID"] or ""), active=(r.get("discontinued") or "0") == "0")
        s.other_rows += 1
    details: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row, r in read("order-details.csv"):
        details.setdefault(r["orderID"], []).append((row, r))
    for row, r in read("orders.csv"):
        ref = f"NW-{r['orderID']}"
        dl = details.pop(r["orderID"], [])
        try:
            received, shipped = when(r["orderDate"], "orderDate") or b.now, when(r["shippedDate"], "shippedDate")
            required = when(r.get("requiredDate"), "requiredDate", DUE_AHEAD)
            freight = price_e4(r["freight"] or "0")
            method = ship_method(r.get("shipVia"))
            lines = [SourceLine(n, ref, f"NW-{d['productID']}", "", int(d["quantity"]), price_e4(d["unitPrice"] or ""),
                                received, r["customerID"], "", "edi", "standard",
                                int(round(float(d["discount"] or 0) * 10000))) for n, d in dl]
        except (ValueError, TypeError, ValidationError) as e:  # TypeError: a required field is NULL
            imp.reject(Reject(row, "bad-row", f"order {r['orderID']}: {e}", (ref,)))
            for n, _d in dl:
                imp.reject(Reject(n, "bad-row", f"order {r['orderID']} was rejected", (ref,)))
            continue
        if imp.already(ref, lines):
            s.skipped_rows += 1  # the orders.csv row itself
            continue
        cust = b.customers.get(r["customerID"] or "")
        unknown = sorted({ln.sku for ln in lines if ln.sku not in b.products})
        problem = None
        if cust is None:
            problem = "unknown-customer", f"customer {r['customerID']!r} is not known"
        elif not lines:
            problem = "bad-row", "no order lines"
        elif unknown:  # a historical order is imported whole or not at all
            problem = "unknown-sku", f"{', '.join(unknown)} not a known product"
        elif imp.history and shipped is None:
            problem = "history-unshipped", REJECT_REASONS["history-unshipped"]
        if problem is not None:
            why, detail = problem
            imp.reject(Reject(row, why, f"order {r['orderID']}: {detail}", (ref,)))
            for ln in lines:
                imp.reject(reject_line(ln, why, f"order {r['orderID']} was rejected"))
            continue
        goods = [Goods(ln.sku, ln.qty, ln.price_e4, ln.discount_e2) for ln in lines]
        charges = [("FREIGHT", "shipping", "Freight", amount_cents(1, freight))] if freight else []
        ship_to = source_address({"name": r.get("shipName"), "street": [r.get("shipAddress")],
                                  "city": r.get("shipCity"), "region": r.get("shipRegion"),
                                  "postcode": r.get("shipPostalCode"), "country": r.get("shipCountry")})
        if ship_to:
            s.ship_to_rows += 1
        s.requested_rows += required is not None
        s.ship_method_rows += method is not None
        # shipped orders are history whatever the mode: their own order, required and shipped dates
        imp.order(ref=ref, customer=cust, channel=Channel.EDI, order_type="standard",
                  received_at=received, goods=goods, charges=charges, shipped_at=shipped, charge_rows=False,
                  due=required if shipped else None, ship_to=ship_to,
                  requested_date=required.date() if required else None, ship_method=method)
        s.other_rows += 1  # the orders.csv row ends as the order itself (its freight as the charge)
        imp.invoice_done()
    for _oid, dl in details.items():
        for row, d in dl:
            imp.reject(Reject(row, "bad-row", f"order line of unknown order {d['orderID']}", (d["orderID"],)))
