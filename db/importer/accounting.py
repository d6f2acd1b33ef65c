"""The import's accounting: rejects counted and written, invoices gathered into chunks that commit on
invoice boundaries (rejects on disk first), idempotency by source_ref, and each order booked into the
summary. The format readers (db.importer.online_retail, .generic, .northwind) feed it.

Live intake (the default) decides each order as order entry would: straight-through, queued or held.
History (`history=True`, `orderq import --history`) is for a record of completed sales: every order is
received, released and shipped on its own date (Northwind: OrderDate, RequiredDate as due, ShippedDate;
an order that never shipped is rejected), is marked `history`, and never enters the queue; the KPIs then
count it only where history defines them (core.kpi). A rule by age was not chosen: it would ship a late
file of live orders without anyone shipping them."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.addresses import source_address
from core.enums import Channel, OrderState
from core.intake import Reject, SourceLine, reject_line
from core.rules import Rules
from db.connection import NOTHING_WRITTEN, StoreError, reason, stopped_after
from db.importer.bulk import Bulk, Cust, Goods
from db.importer.rejects import RejectsFile
from db.importer.summary import ImportSummary

#: invoices per transaction: big enough for executemany to pay, small enough to keep the WAL and a crash's loss small
CHUNK_INVOICES = 1000

#: invoices between progress-bar updates
PROGRESS_EVERY = 100

Progress = Callable[[int, int], None]


class Importer:
    """One import's state: its Bulk writer, its rejects and summary, and where its chunks stand."""

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
              charge_rows: bool = True, due: datetime | None = None, ship_to: dict[str, Any] | None = None,
              requested_date: date | None = None, ship_method: str | None = None) -> None:
        """One order. History (`--history`): a completed sale, received, released and shipped on its own
        date (`shipped_at`, else the date it was received), never live work for the queue. `ship_to`,
        `requested_date`, `ship_method`: what its source gave (the caller counts those rows), stored on its header."""
        if shipped_at is None and self.history:
            shipped_at = received_at
        if shipped_at is not None:
            state, total = self.bulk.add_historical_order(ref=ref, customer=customer, channel=channel, order_type=order_type,
                                                   received_at=received_at, shipped_at=shipped_at, goods=goods,
                                                   charges=charges, due=due, ship_to=ship_to,
                                                   requested_date=requested_date, ship_method=ship_method)
        else:
            state, total = self.bulk.add_order(ref=ref, customer=customer, channel=channel, order_type=order_type,
                                        received_at=received_at, goods=goods, charges=charges, ship_to=ship_to,
                                        requested_date=requested_date, ship_method=ship_method)
        s = self.s
        if ship_to:
            s.ship_tos += 1
        if requested_date:
            s.requested_dates += 1
        if ship_method:
            s.ship_methods += 1
        s.orders += 1
        s.lines += len(goods)
        s.charges += len(charges)
        if charge_rows:
            s.charge_rows += len(charges)
        s.by_state[state.value] += 1
        if state == OrderState.RELEASED and shipped_at is None:
            s.straight_through += 1
        s.order_total_cents += total

    def country_ship_to(self, first: SourceLine) -> dict[str, Any] | None:
        """The ship-to an invoice's Country gives (online-retail, the generic formats), counted for conservation."""
        ship_to = source_address({"country": first.country}) if first.country else None
        if ship_to:
            self.s.ship_to_rows += 1
        return ship_to
