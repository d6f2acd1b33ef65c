"""Bulk intake: online-retail (UCI), Northwind, and the generic csv / jsonl formats.

Files are streamed (gzip read directly, never loaded whole). Writes go through `Bulk`, in chunks of
CHUNK_INVOICES invoices that end on invoice boundaries; re-running an import skips every source_ref
already present, so the committed chunks are a resumable checkpoint and a crash never leaves half an
invoice. An online-retail invoice is one whole order wherever its rows sit in the file: a first pass finds
the invoices whose rows are not consecutive, and the second parks their runs until complete
(db.importer.assemble). Cancellations (online-retail `C` invoices) are matched after the orders, each
against purchases of the same customer and SKU that are earlier (an earlier minute, or the same minute
and a lower invoice number) and have shipped; what it cannot take back is rejected with the reason.

Live intake (the default) decides each order as order entry would: straight-through, queued or held.
History (`history=True`, `orderq import --history`) is for a record of completed sales: every order is
received, released and shipped on its own date (Northwind: OrderDate, RequiredDate as due, ShippedDate;
an order that never shipped is rejected), is marked `history`, and never enters the queue; the KPIs then
count it only where history defines them (core.kpi). A rule by age was not chosen: it would ship a late
file of live orders without anyone shipping them.

Generic format (`--format csv`, `--format jsonl`; one row / JSON object per order line; rows of one
order are consecutive and share its order_ref):
    order_ref    required; the order's source_ref (idempotency key)
    customer     required; an existing customer code
    sku          required; an existing product SKU, or a charge code (POST, DOT, C2, D, M, S,
                 AMAZONFEE, BANK CHARGES, CRUK, B) which becomes an order charge of qty × unit_price
    qty          required; whole number > 0 (a JSON number or string; never a float)
    unit_price   optional; decimal string with at most 4 places; empty: the product's list price
    discount     optional; percent 0–100, at most 2 places
    channel      optional; phone, fax, email, online (default), edi, walk_in
    type         optional; a request type from the rules (default standard)
    received_at  optional; ISO 8601 (naive means UTC); default: now
    description  optional; shown on charges
The order's customer, channel, type and received_at come from its first row.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from core.addresses import source_address, source_contact
from core.enums import Channel, OrderState
from core.errors import ValidationError
from core.when import AHEAD, DUE_AHEAD, check_window
from core.intake import (
    CHARGE_CODES, GENERIC_COLUMNS, IMPORT_OPENING_STOCK, LIST_PRICE, REJECT_REASONS, RETAIL_COLUMNS, Reject, SourceLine,
    allocate, amount_cents, cents_text, group_runs, invoice_seq, parse_generic, parse_retail_row, plan_invoice,
    price_e4, reject_line,
)
from core.rules import Rules
from db.connection import NOTHING_WRITTEN, StoreError, reason, stopped_after
from db.convert import ts
from db.importer.assemble import Assembler, scattered_keys
from db.importer.bulk import Bulk, Cust, Goods
from db.outputs import AtomicFile

FORMATS = ("auto", "csv", "jsonl", "online-retail", "northwind")
#: the file names an import reads (Northwind is a folder); the drop folder takes nothing else
FILE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".csv.gz", ".jsonl.gz", ".ndjson.gz")
UK = ZoneInfo("Europe/London")
#: invoices per transaction: big enough for executemany to pay, small enough to keep the WAL and a crash's loss small
CHUNK_INVOICES = 1000

#: page cache while importing: the line indexes are updated at random keys, which thrashes the default 2 MB
IMPORT_CACHE_KIB = 16384

#: invoices between progress-bar updates
PROGRESS_EVERY = 100

Progress = Callable[[int, int], None]


@dataclass
class ImportSummary:
    file: str
    format: str
    rows_read: int = 0
    orders: int = 0
    lines: int = 0
    charges: int = 0
    charge_rows: int = 0
    other_rows: int = 0
    returns: int = 0
    return_lines: int = 0
    returned_rows: int = 0
    #: cancellation rows matched in part: counted once in returned_rows and once in rejects (the rest)
    partly_returned_rows: int = 0
    rejects: int = 0
    rejects_by_reason: Counter = field(default_factory=Counter)
    skipped_rows: int = 0
    skipped_orders: int = 0
    by_state: Counter = field(default_factory=Counter)
    straight_through: int = 0
    customers_created: int = 0
    products_created: int = 0
    order_total_cents: int = 0
    refund_total_cents: int = 0
    chunks: int = 0
    rejects_file: str | None = None
    seconds: float = 0.0
    #: imported as history (completed sales, shipped on their own dates), not as live intake
    history: bool = False
    #: imported orders whose source row named where it ships (Northwind's Ship*, online-retail's Country) …
    ship_to_rows: int = 0
    #: … and the orders stored with that ship-to: the two agree, or the summary says the rows do not add up
    ship_tos: int = 0
    addresses_created: int = 0
    contacts_created: int = 0

    @property
    def conserved(self) -> bool:
        """Every row read ended in an order line or charge, a return, the rejects, or was imported before."""
        return self.rows_read == (self.lines + self.charge_rows + self.returned_rows + self.rejects + self.skipped_rows
                                  + self.other_rows - self.partly_returned_rows) and self.ship_tos == self.ship_to_rows

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "rows_read": self.rows_read, "orders": self.orders,
            "lines": self.lines, "charges": self.charges, "returns": self.returns, "return_lines": self.return_lines,
            "returned_rows": self.returned_rows, "partly_returned_rows": self.partly_returned_rows,
            "master_rows": self.other_rows, "rejects": self.rejects, "history": self.history,
            "rejects_by_reason": dict(sorted(self.rejects_by_reason.items())),
            "already_imported_rows": self.skipped_rows, "already_imported_orders": self.skipped_orders,
            "by_state": dict(sorted(self.by_state.items())), "straight_through": self.straight_through,
            "queued_for_rep": self.orders - self.straight_through - self.by_state.get("shipped", 0),
            "customers_created": self.customers_created, "products_created": self.products_created,
            "ship_to_rows": self.ship_to_rows, "ship_tos": self.ship_tos,
            "addresses_created": self.addresses_created, "contacts_created": self.contacts_created,
            "order_total": cents_text(self.order_total_cents), "refund_total": cents_text(self.refund_total_cents),
            "conserved": self.conserved, "chunks": self.chunks, "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 2),
        }


class RejectsFile:
    """Rejected rows with their row number and reason, as CSV; created only when there is something to say.

    Written to a temp file beside the destination (db.outputs.AtomicFile), which replaces an earlier
    rejects file whole at the first `sync`; the path was checked by `db.outputs.guard`.
    `sync` puts what was written on disk, under its name, before each chunk's orders commit
    (Importer.commit_chunk), so the rejects of committed orders are never lost: if the file cannot be
    written, the chunk rolls back with it. A write failure names this file, never the input."""

    HEADER = ("row", "reason", "detail", "ref", "sku", "description", "qty", "unit_price", "customer", "received_at")
    #: how every rejects file begins: an existing file that begins so is ours to replace
    MARKER = ",".join(HEADER)

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._out: AtomicFile | None = None
        self._w: Any = None

    def write(self, rej: Reject) -> None:
        if self.path is None:
            return
        try:
            if self._out is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._out = AtomicFile(self.path, newline="")
                self._w = csv.writer(self._out.fh)
                self._w.writerow(self.HEADER)
            self._w.writerow((rej.row, rej.reason, rej.detail, *rej.raw))
        except OSError as e:
            raise self._failed(e) from None

    def sync(self) -> None:
        if self._out is None:
            return
        try:
            self._out.sync()
        except OSError as e:
            raise self._failed(e) from None

    def close(self) -> None:
        if self._out is not None:
            out, self._out = self._out, None
            try:
                out.publish()
            except OSError as e:
                raise self._failed(e) from None

    def _failed(self, e: OSError) -> StoreError:
        """A write failed: the half-written temp file is dropped, never renamed into place (a file placed
        by an earlier sync keeps what it holds: every row of the committed chunks), and the import stops."""
        if self._out is not None:
            out, self._out = self._out, None
            out.discard()
        why = f"cannot write the rejects file {self.path}: {e.strerror or e}"
        return StoreError(why, reason=why)


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "orders.csv").exists() and (path / "order-details.csv").exists():
            return "northwind"
        raise ValidationError(f"{path} is a folder but not a Northwind export (orders.csv, order-details.csv)",
                              field="format")
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    with _open_text(path) as fh:
        head = fh.readline()
    cols = [c.strip().lstrip("\ufeff") for c in head.split(",")]
    if cols[:2] == ["InvoiceNo", "StockCode"]:
        return "online-retail"
    if "order_ref" in cols:
        return "csv"
    raise ValidationError(f"cannot tell the format of {path.name}; pass --format", field="format")


def _open_text(path: Path) -> IO[str]:
    """utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark, which would else
    stick to the first column's name (so `order_ref` went missing)."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


class _Counting(io.RawIOBase):
    """Counts the bytes read from the file on disk (compressed), for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.done += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def _first_fields(path: Path) -> Iterator[str]:
    """Pass 1's fast read: the first field of each physical line, after the header (3× faster than csv).

    A record that spans lines (a quoted newline) only adds a bogus key between two runs, which makes its
    invoice look scattered: then it is parked and handed on whole at the end, still one order."""
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[assignment]
    with io.BufferedReader(raw, 1 << 20) as fh:  # type: ignore[arg-type]
        next(fh, None)
        for line in fh:
            yield line.split(b",", 1)[0].strip().strip(b'"').decode("utf-8", "replace")


class Importer:
    def __init__(self, conn: Any, *, rules: Rules, now: datetime, actor: str, rejects: RejectsFile,
                 summary: ImportSummary, strict: bool, progress: Progress | None,
                 chunk: int = CHUNK_INVOICES, history: bool = False) -> None:
        self.bulk = Bulk(conn, rules=rules, now=now, actor=actor)
        #: the file is a record of completed sales: each order shipped on its own date (see `order`)
        self.history = history
        self.rejects = rejects
        self.s = summary
        self.strict = strict
        self.progress = progress
        self.chunk = chunk
        self.in_chunk = 0
        #: orders and returns of the chunks committed so far: what a failure leaves in the database
        self.committed_orders = 0
        self.committed_returns = 0
        self.first_reject: Reject | None = None
        self.seen: set[str] = set()

    # ---- plumbing ----------------------------------------------------------------------------
    def reject(self, rej: Reject) -> None:
        self.s.rejects += 1
        self.s.rejects_by_reason[rej.reason] += 1
        if self.first_reject is None:
            self.first_reject = rej
        self.rejects.write(rej)

    def invoice_done(self, done: int = 0, total: int = 0) -> None:
        self.in_chunk += 1
        if self.progress and self.in_chunk % PROGRESS_EVERY == 0:
            self.progress(done, total)
        if self.in_chunk >= self.chunk and not self.strict:
            self.commit_chunk()
            self.in_chunk = 0
            self.bulk.begin()

    def commit_chunk(self) -> None:
        """The chunk's rejects go to disk first, then its orders commit: never orders without their rejects."""
        self.rejects.sync()
        self.bulk.commit()
        self.s.chunks += 1
        self.committed_orders, self.committed_returns = self.s.orders, self.s.returns

    def stopped(self, e: BaseException, path: Path) -> StoreError:
        """The failure, with how far the import got: committed chunks stay, and a re-run skips them."""
        why = f"cannot read {path.name}: {e.strerror or e}" if isinstance(e, OSError) else reason(e)
        if not (self.committed_orders or self.committed_returns):
            return StoreError(f"{why}; {NOTHING_WRITTEN}", reason=why)
        done = f"{self.committed_orders:,} orders" + (f" and {self.committed_returns:,} returns"
                                                      if self.committed_returns else "")
        return stopped_after(why, done, "re-run the same command to resume (already-imported orders are skipped)")

    def already(self, ref: str, lines: list[SourceLine]) -> bool:
        """Idempotency: an order or return with this source_ref exists, from this run or an earlier one."""
        b = self.bulk
        if ref in b.order_refs or ref in b.return_refs:
            if ref in self.seen:
                for ln in lines:
                    self.reject(reject_line(ln, "split-invoice", f"{ref} reappears after other invoices; "
                                                                  "its first part was imported already"))
            else:
                self.s.skipped_rows += len(lines)
                self.s.skipped_orders += 1
            return True
        self.seen.add(ref)
        return False

    def order(self, *, ref: str, customer: Cust, channel: Channel, order_type: str, received_at: datetime,
              goods: list[Goods], charges: list[tuple[str, str, str, int]], shipped_at: datetime | None = None,
              charge_rows: bool = True, due: datetime | None = None, ship_to: dict[str, Any] | None = None) -> None:
        """One order. History (`--history`): a completed sale, received, released and shipped on its own
        date (`shipped_at`, else the date it was received), never live work for the queue. `ship_to`: the
        address its source gave, stored as the order's snapshot."""
        if shipped_at is None and self.history:
            shipped_at = received_at
        if shipped_at is not None:
            state, total = self.bulk.add_historical_order(ref=ref, customer=customer, channel=channel, order_type=order_type,
                                                   received_at=received_at, shipped_at=shipped_at, goods=goods,
                                                   charges=charges, due=due, ship_to=ship_to)
        else:
            state, total = self.bulk.add_order(ref=ref, customer=customer, channel=channel, order_type=order_type,
                                        received_at=received_at, goods=goods, charges=charges, ship_to=ship_to)
        s = self.s
        if ship_to:
            s.ship_tos += 1
        s.orders += 1
        s.lines += len(goods)
        s.charges += len(charges)
        if charge_rows:
            s.charge_rows += len(charges)
        s.by_state[state.value] += 1
        if state == OrderState.RELEASED and shipped_at is None:
            s.straight_through += 1
        s.order_total_cents += total

    # ---- online retail -------------------------------------------------------------------------
    @contextmanager
    def _retail_rows(self, path: Path) -> Iterator[tuple[Iterator[tuple[int, list[str]]], _Counting]]:
        """The file's data rows with their line numbers, streamed (the header checked first)."""
        counting = _Counting(open(path, "rb"))
        buffered = io.BufferedReader(counting, 1 << 20)
        binary: IO[bytes] = gzip.GzipFile(fileobj=buffered) if path.suffix == ".gz" else buffered  # type: ignore[assignment]
        with io.TextIOWrapper(binary, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
            if tuple(header) != RETAIL_COLUMNS:
                raise ValidationError(f"{path.name}: not the online-retail layout (expected {','.join(RETAIL_COLUMNS)})",
                                      field="format")
            yield ((reader.line_num, fields) for fields in reader), counting

    def online_retail(self, path: Path) -> None:
        """Two passes: the first finds the invoices whose rows are not consecutive, the second imports every
        invoice whole (see db.importer.assemble); cancellations go last."""
        def key(fields: list[str]) -> str | None:
            return fields[0].strip() if fields else None

        with self._retail_rows(path) as (_rows, _counting):
            pass  # the header is checked before the first pass reads anything
        assembler = Assembler(self.bulk.conn, scattered_keys(_first_fields(path)))
        size = path.stat().st_size
        dates: dict[str, datetime] = {}
        s = self.s
        pending: list[tuple[str, list[SourceLine]]] = []
        try:
            with self._retail_rows(path) as (rows, counting):
                for raw in assembler.groups(rows, key):
                    s.rows_read += len(raw)
                    if len(dates) > 256:
                        dates.clear()
                    lines: list[SourceLine] = []
                    for n, fields in raw:
                        got = parse_retail_row(n, fields, UK, dates, now=self.bulk.now)
                        if type(got) is Reject:
                            self.reject(got)
                        else:
                            lines.append(got)  # type: ignore[arg-type]
                    if not lines:
                        continue
                    ref = lines[0].ref
                    if self.already(ref, lines):
                        continue
                    plan = plan_invoice(lines)
                    for rej in plan.rejects:
                        self.reject(rej)
                    if plan.cancellation:
                        if plan.goods:  # matched after the orders, against purchases earlier than it
                            pending.append((ref, plan.goods))
                        continue
                    if plan.goods or plan.charges:
                        self._retail_order(ref, plan.goods, plan.charges)
                    self.invoice_done(counting.done, size)
        finally:
            assembler.close()
        self._cancellations(pending)
        if self.progress:
            self.progress(size, size)

    def _retail_customer(self, ln: SourceLine) -> Cust:
        """The invoice's customer; online-retail's Country becomes its default ship-to's country."""
        address = source_address({"country": ln.country}) if ln.country else None
        if ln.customer:
            return self.bulk.ensure_customer(ln.customer, f"Online customer {ln.customer}", ln.country or None,
                                             address=address)
        country = ln.country or "Unknown"
        return self.bulk.ensure_customer(f"GUEST-{country.upper().replace(' ', '-')}", f"Guest checkout ({country})",
                                         country, known=False, address=address)

    def _retail_order(self, ref: str, goods: list[SourceLine], charges: list[SourceLine]) -> None:
        b = self.bulk
        first = (goods or charges)[0]  # an invoice of charges only is a known customer's order of charges
        cust = self._retail_customer(first)
        products = b.products
        for ln in goods:
            if ln.sku not in products:
                b.ensure_product(ln.sku, ln.description, ln.price_e4, IMPORT_OPENING_STOCK)
        ch = [(ln.sku, CHARGE_CODES[ln.sku][0], ln.description or CHARGE_CODES[ln.sku][1], amount_cents(ln.qty, ln.price_e4))
              for ln in charges]
        self.order(ref=ref, customer=cust, channel=Channel.ONLINE, order_type="standard",
                   received_at=first.received_at, goods=goods, charges=ch,  # type: ignore[arg-type]
                   ship_to=self._country_ship_to(first))

    def _country_ship_to(self, first: SourceLine) -> dict[str, Any] | None:
        """The ship-to an invoice's Country gives (online-retail, the generic formats), counted for conservation."""
        ship_to = source_address({"country": first.country}) if first.country else None
        if ship_to:
            self.s.ship_to_rows += 1
        return ship_to

    def _cancellations(self, pending: list[tuple[str, list[SourceLine]]]) -> None:
        """Cancellations go last, each matched only against purchases earlier than it (by time, then
        invoice number): deferring them lets the orders stream in big batches, and where a purchase sits
        in the file does not change what it can be matched to."""
        if not pending:
            return
        b = self.bulk
        b.flush()
        keys = set()
        for _ref, lines in pending:
            cust = b.customers.get(lines[0].customer or "")
            if cust is not None:
                keys.update((cust.id, ln.sku) for ln in lines)
        b.prepare_matching(keys)
        for ref, lines in pending:
            self._cancellation(ref, lines)
            self.invoice_done()

    def _cancellation(self, ref: str, lines: list[SourceLine]) -> None:
        """A `C` invoice: each line takes back what it can from earlier shipped lines of the same customer and
        SKU; what is left of it is rejected with the reason (nothing bought earlier, or not shipped)."""
        b = self.bulk
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
            self.reject(reject_line(replace(ln, qty=-left), reason, why))
            if alloc:
                self.s.partly_returned_rows += 1
        if matched:
            assert cust is not None
            refund = b.add_return(ref=ref, customer=cust, requested_at=lines[0].received_at, lines=matched)
            self.s.returns += 1
            self.s.return_lines += len(matched)
            self.s.returned_rows += rows
            self.s.refund_total_cents += refund

    # ---- generic csv / jsonl -------------------------------------------------------------------
    def generic(self, path: Path, fmt: str, now: datetime) -> None:
        size = path.stat().st_size
        with _open_text(path) as fh:
            s = self.s

            def records() -> Iterator[SourceLine | Reject]:
                if fmt == "jsonl":
                    for n, text in enumerate(fh, start=1):
                        if not text.strip():
                            continue
                        s.rows_read += 1
                        try:
                            rec = json.loads(text, parse_float=float)
                            if not isinstance(rec, dict):
                                raise ValueError("not an object")
                        except ValueError as e:
                            yield Reject(n, "bad-row", f"not a JSON object: {e}", (text.strip()[:200],))
                            continue
                        except RecursionError:  # 100k nested brackets: the parser's stack, not a JSON error
                            yield Reject(n, "bad-row", "not a JSON object: nested too deeply", (text.strip()[:200],))
                            continue
                        yield parse_generic(n, rec, now)
                else:
                    reader = csv.DictReader(fh)
                    missing = [c for c in ("order_ref", "customer", "sku", "qty") if c not in (reader.fieldnames or [])]
                    if missing:
                        raise ValidationError(f"{path.name}: missing column(s) {', '.join(missing)} "
                                              f"(columns: {', '.join(GENERIC_COLUMNS)})", field="format")
                    for rec in reader:
                        s.rows_read += 1
                        yield parse_generic(reader.line_num, rec, now)

            for lines, bad in group_runs(records()):
                for rej in bad:
                    self.reject(rej)
                if not lines or self.already(lines[0].ref, lines):
                    continue
                self._generic_order(lines)
                self.invoice_done(0, size)

    def _generic_order(self, lines: list[SourceLine]) -> None:
        b = self.bulk
        first = lines[0]
        try:
            channel = Channel(first.channel)
        except ValueError:
            for ln in lines:
                self.reject(reject_line(ln, "bad-channel", f"channel {first.channel!r} is not one of "
                                                           f"{', '.join(c.value for c in Channel)}"))
            return
        if first.type not in b.rules.request_types:
            for ln in lines:
                self.reject(reject_line(ln, "bad-type", f"request type {first.type!r} is not in the rules "
                                                        f"({', '.join(sorted(b.rules.request_types))})"))
            return
        cust = b.customers.get(first.customer or "")
        if cust is None:
            for ln in lines:
                self.reject(reject_line(ln, "unknown-customer", f"customer {first.customer!r} is not known"))
            return
        goods: list[Goods] = []
        charges: list[tuple[str, str, str, int]] = []
        charge_lines = []
        for ln in lines:
            if ln.sku in CHARGE_CODES and ln.sku not in b.products:
                if ln.price_e4 == LIST_PRICE:
                    self.reject(reject_line(ln, "bad-row", f"charge {ln.sku} needs a unit_price"))
                    continue
                charge_lines.append(ln)
                charges.append((ln.sku, CHARGE_CODES[ln.sku][0], ln.description or CHARGE_CODES[ln.sku][1],
                                amount_cents(ln.qty, ln.price_e4)))
                continue
            prod = b.products.get(ln.sku)
            if prod is None:
                self.reject(reject_line(ln, "unknown-sku", f"SKU {ln.sku!r} is not a known product"))
                continue
            goods.append(Goods(ln.sku, ln.qty, prod.price_e4 if ln.price_e4 == LIST_PRICE else ln.price_e4,
                               ln.discount_e2))
        if not goods and not charges:
            return
        self.order(ref=first.ref, customer=cust, channel=channel, order_type=first.type,
                   received_at=first.received_at, goods=goods, charges=charges, ship_to=self._country_ship_to(first))

    # ---- northwind -----------------------------------------------------------------------------
    def northwind(self, folder: Path) -> None:
        b = self.bulk
        s = self.s

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

        cats = {}
        if (folder / "categories.csv").exists():
            with open(folder / "categories.csv", encoding="utf-8", newline="") as fh:
                cats = {r["categoryID"]: r["categoryName"] for r in csv.DictReader(fh)}
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
                self.reject(Reject(row, "bad-row", f"product {r['productID']}: {e}", (r["productID"] or "",)))
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
                lines = [SourceLine(n, ref, f"NW-{d['productID']}", "", int(d["quantity"]), price_e4(d["unitPrice"] or ""),
                                    received, r["customerID"], "", "edi", "standard",
                                    int(round(float(d["discount"] or 0) * 10000))) for n, d in dl]
            except (ValueError, TypeError, ValidationError) as e:  # TypeError: a required field is NULL
                self.reject(Reject(row, "bad-row", f"order {r['orderID']}: {e}", (ref,)))
                for n, _d in dl:
                    self.reject(Reject(n, "bad-row", f"order {r['orderID']} was rejected", (ref,)))
                continue
            if self.already(ref, lines):
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
            elif self.history and shipped is None:
                problem = "history-unshipped", REJECT_REASONS["history-unshipped"]
            if problem is not None:
                why, detail = problem
                self.reject(Reject(row, why, f"order {r['orderID']}: {detail}", (ref,)))
                for ln in lines:
                    self.reject(reject_line(ln, why, f"order {r['orderID']} was rejected"))
                continue
            goods = [Goods(ln.sku, ln.qty, ln.price_e4, ln.discount_e2) for ln in lines]
            charges = [("FREIGHT", "shipping", "Freight", amount_cents(1, freight))] if freight else []
            ship_to = source_address({"name": r.get("shipName"), "street": [r.get("shipAddress")],
                                      "city": r.get("shipCity"), "region": r.get("shipRegion"),
                                      "postcode": r.get("shipPostalCode"), "country": r.get("shipCountry")})
            if ship_to:
                s.ship_to_rows += 1
            # shipped orders are history whatever the mode: their own order, required and shipped dates
            self.order(ref=ref, customer=cust, channel=Channel.EDI, order_type="standard",
                       received_at=received, goods=goods, charges=charges, shipped_at=shipped, charge_rows=False,
                       due=required if shipped else None, ship_to=ship_to)
            s.other_rows += 1  # the orders.csv row ends as the order itself (its freight as the charge)
            self.invoice_done()
        for _oid, dl in details.items():
            for row, d in dl:
                self.reject(Reject(row, "bad-row", f"order line of unknown order {d['orderID']}", (d["orderID"],)))




def _quiet_close(rejects: RejectsFile) -> None:
    """Close the rejects file on the way out of a failure that is already being reported."""
    try:
        rejects.close()
    except StoreError:
        pass


def run_import(conn: Any, path: Path, *, fmt: str = "auto", rules: Rules, now: datetime, actor: str,
               rejects_path: Path | None = None, strict: bool = False, progress: Progress | None = None,
               chunk: int = CHUNK_INVOICES, history: bool = False) -> ImportSummary:
    """Import one file (or Northwind folder). Strict: any reject refuses the whole file and writes nothing.
    History: the file records completed sales (see `Importer.order`), not work for the queue."""
    if not path.exists():
        raise ValidationError(f"no such file: {path}", field="file")
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r} ({', '.join(FORMATS)})", field="format")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "northwind" and not path.is_dir():
        raise ValidationError(f"--format northwind takes the folder of Northwind CSV files, not {path.name}",
                              field="format")
    summary = ImportSummary(file=str(path), format=fmt, rejects_file=str(rejects_path) if rejects_path else None,
                            history=history)
    rejects = RejectsFile(rejects_path)
    imp = Importer(conn, rules=rules, now=now, actor=actor, rejects=rejects, summary=summary, strict=strict,
                   progress=progress, chunk=chunk, history=history)
    t0 = time.perf_counter()
    old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    imp.bulk.begin()
    try:
        if fmt == "online-retail":
            imp.online_retail(path)
        elif fmt == "northwind":
            imp.northwind(path)
        else:
            imp.generic(path, fmt, now)
        if strict and imp.first_reject is not None:
            r = imp.first_reject
            raise ValidationError(f"--strict: {summary.rejects} row(s) rejected, nothing imported; first: row {r.row}: "
                                  f"{r.reason}: {r.detail}", field="file")
        if summary.orders or summary.returns or imp.bulk.customers_created or imp.bulk.products_created:
            imp.bulk.event("import", None, path.name, "imported", {
                "format": fmt, "rows_read": summary.rows_read, "orders": summary.orders, "returns": summary.returns,
                "rejects": summary.rejects, "history": history})
        imp.commit_chunk()
        rejects.close()
    except (sqlite3.Error, OSError, StoreError) as e:  # StoreError: the rejects file could not be written
        imp.bulk.rollback()
        raise imp.stopped(e, path) from None
    except BaseException:
        imp.bulk.rollback()
        raise
    finally:
        _quiet_close(rejects)
        imp.bulk.close()
        conn.execute(f"PRAGMA cache_size={old_cache}")
    summary.customers_created = imp.bulk.customers_created
    summary.addresses_created = imp.bulk.addresses_created
    summary.contacts_created = imp.bulk.contacts_created
    summary.products_created = imp.bulk.products_created
    if summary.rejects == 0:
        summary.rejects_file = None
    summary.seconds = time.perf_counter() - t0
    return summary
