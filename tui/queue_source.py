"""The data behind the queue view: count, pages and positions of one filtered queue.

The view never loads the queue whole: it keeps a small cache of pages (a few hundred rows at
most). A page next to a cached one is read by its neighbour's key (`OrderService.list(after=…)`),
so scrolling costs the same 90,000 rows down as at the top; a jump reads by offset from the nearer
end, off the index alone. Kept apart from the widget so the screen, the view and the benchmark
share one reader (bench/bench_queue_paint.py times its pages).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from core.errors import OrderqError
from db import dbapi, orders_read
from db.connection import translate
from db.orders_read import QueueFilter
from db.service import Desk


class QueueSource:
    """Count, pages and positions of one filtered queue, through the service's read API."""

    PAGE = 64
    MAX_PAGES = 8

    def __init__(self, desk: Desk, f: QueueFilter) -> None:
        self.desk = desk
        self.filter = f
        self._pages: OrderedDict[int, list[Any]] = OrderedDict()
        self.total = 0

    def reload(self) -> int:
        self._pages.clear()
        try:
            self.total = orders_read.count(self.desk.store.conn, self.filter)
        except dbapi.Error as e:  # a disk error must show as a message, never a traceback
            raise translate(e) from None
        return self.total

    def _page(self, n: int) -> list[Any]:
        page = self._pages.get(n)
        if page is None:
            page = self._fetch(n)
            self._pages[n] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(n)
        return page

    def _fetch(self, n: int) -> list[Any]:
        """Page n, next to a cached neighbour when there is one (a keyset read: as cheap 90,000
        rows down as at the top), else by offset, from whichever end is nearer."""
        prev, nxt = self._pages.get(n - 1), self._pages.get(n + 1)
        orders = self.desk.orders
        if prev and len(prev) == self.PAGE:
            return orders.list(self.filter, limit=self.PAGE, after=orders_read.key_of(prev[-1]))
        if nxt:
            return orders.list(self.filter, limit=self.PAGE, before=orders_read.key_of(nxt[0]))
        return orders.list(self.filter, n * self.PAGE, self.PAGE, total=self.total)

    def row(self, i: int) -> Any | None:
        if i < 0 or i >= self.total:
            return None
        try:
            page = self._page(i // self.PAGE)
        except (OrderqError, dbapi.Error):
            return None  # drawn blank; reload() reports the error
        k = i % self.PAGE
        return page[k] if k < len(page) else None

    def affected(self, ids: set[int], first: int, height: int) -> bool:
        """Would re-reading change what lines first … first+height show, or the count, after
        changes to the orders `ids`? Decided from the cached rows, the count and where those
        orders stand now (orders_read.members): no window is read. True when unsure."""
        if self.filter.search or first > 0:
            return True  # a search is not an index read; an order above the window would shift it
        shown = [self.row(i) for i in range(first, min(self.total, first + height))]
        if any(r is None or r["id"] in ids for r in shown):
            return True
        try:
            if orders_read.count(self.desk.store.conn, self.filter) != self.total:
                return True
            if len(shown) < height:
                return False  # the count is the same and none of the shown rows changed
            last = orders_read.rank(orders_read.key_of(shown[-1]))
            for key in orders_read.members(self.desk.store.conn, self.filter, sorted(ids)):
                k = orders_read.rank(key)
                if last is None or k is None or k < last:
                    return True
        except dbapi.Error:
            return True
        return False

    def patch(self, ids: set[int]) -> bool:
        """Re-read just these orders' rows into the cache, when that is all that changed: the count
        is the same and each of them is cached and keeps its place (same key, still in the view).
        False (cache untouched) when the view must be re-read whole."""
        conn = self.desk.store.conn
        where: dict[int, tuple[int, int]] = {}
        for n, page in self._pages.items():
            for k, r in enumerate(page):
                if r["id"] in ids:
                    where[r["id"]] = (n, k)
        if set(where) != ids:
            return False
        try:
            if orders_read.count(conn, self.filter) != self.total:
                return False
            keys = dict(zip(sorted(ids), [None] * len(ids)))
            for key in orders_read.members(conn, self.filter, sorted(ids)):
                keys[key[-1]] = key  # the id is the key's last column
            for i, (n, k) in where.items():
                if keys[i] != orders_read.key_of(self._pages[n][k]):
                    return False
            fresh = orders_read.rows_by_id(conn, sorted(ids))
        except dbapi.Error:
            return False
        if len(fresh) != len(ids):
            return False
        for r in fresh:
            n, k = where[r["id"]]
            self._pages[n][k] = r
        return True

    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def locate(self, order_id: int, near: int) -> int | None:
        """Where the item is now: the pages around `near` first (cheap), else by position."""
        base = near // self.PAGE
        try:
            for n in (base, base - 1, base + 1):
                if n < 0 or n * self.PAGE >= self.total:
                    continue
                for k, r in enumerate(self._page(n)):
                    if r["id"] == order_id:
                        return n * self.PAGE + k
            return orders_read.position(self.desk.store.conn, self.filter, order_id)
        except (OrderqError, dbapi.Error):
            return None

