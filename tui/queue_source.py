"""The data behind the queue view: count, pages and positions of one filtered queue.

The view never loads the queue whole: it keeps a small cache of pages (a few hundred rows at
most). A page next to a cached one is read by its neighbour's key (`OrderService.list(after=…)`),
so scrolling costs the same 90,000 rows down as at the top; a jump reads by offset from the nearer
end, off the index alone. Kept apart from the widget so the screen, the view and the benchmark
share one reader (bench/bench_queue_paint.py times its pages).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from core.errors import OrderqError
from db import dbapi, orders_read
from db.connection import translate
from db.orders_read import QueueFilter
from db.service import Desk

if TYPE_CHECKING:
    from core.models import Event

#: order events that never move an order in the queue nor change what its row draws (its version,
#: and a lease end the why panel shows, at most): not on view, they change nothing this view shows
KEEP_PLACE_ACTIONS = frozenset({"tick", "untick"})


class QueueSource:
    """Count, pages and positions of one filtered queue, through the service's read API."""

    PAGE = 64
    MAX_PAGES = 8

    def __init__(self, desk: Desk, f: QueueFilter) -> None:
        self.desk = desk
        self.filter = f
        self._pages: OrderedDict[int, list[Any]] = OrderedDict()
        #: page -> the first position in it that may be out of date (`forget_after`): read again
        #: when asked for, while the rows before it (the window on view) stay as they are
        self._stale_from: dict[int, int] = {}
        self.total = 0
        #: the last event the count holds (read with it): a later `created` may be counted in here
        self.as_of = 0

    def reload(self) -> int:
        self._pages.clear()
        self._stale_from.clear()
        try:
            self.total, self.as_of = orders_read.count_as_of(self.desk.store.conn, self.filter)
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
        stale = self._stale_from
        prev = None if n - 1 in stale else self._pages.get(n - 1)
        nxt = None if n + 1 in stale else self._pages.get(n + 1)
        orders = self.desk.orders
        if prev and len(prev) == self.PAGE:
            return orders.list(self.filter, limit=self.PAGE, after=orders_read.key_of(prev[-1]))
        if nxt:
            return orders.list(self.filter, limit=self.PAGE, before=orders_read.key_of(nxt[0]))
        return orders.list(self.filter, n * self.PAGE, self.PAGE, total=self.total)

    def row(self, i: int) -> Any | None:
        if i < 0 or i >= self.total:
            return None
        n = i // self.PAGE
        if i >= self._stale_from.get(n, self.total):  # moved since it was read: read that page again
            self._pages.pop(n, None)
            del self._stale_from[n]
        try:
            page = self._page(n)
        except (OrderqError, dbapi.Error):
            return None  # drawn blank; reload() reports the error
        k = i % self.PAGE
        return page[k] if k < len(page) else None

    def _cached(self, i: int) -> Any | None:
        """Row i if the cache holds it up to date, else None: never a read."""
        n, k = divmod(i, self.PAGE)
        page = self._pages.get(n)
        if page is None or k >= len(page) or i >= self._stale_from.get(n, self.total):
            return None
        return page[k]

    def forget_after(self, end: int) -> None:
        """Changes were skipped as touching nothing in positions before `end` (the window on view):
        the cached rows from `end` on may have moved among themselves (a deep override moves an
        order from one place below the window to another), so they are read again when the rep
        scrolls to them, never drawn from the cache as they were."""
        for n in list(self._pages):
            start = n * self.PAGE
            if start >= end:
                del self._pages[n]
                self._stale_from.pop(n, None)
            elif start + len(self._pages[n]) > end:
                self._stale_from[n] = min(end, self._stale_from.get(n, end))

    def unseen(self, batch: Iterable[Event], first: int, height: int) -> bool:
        """Sure from the events alone, with no read, that these order changes leave lines first …
        first+height and the count as they are (issue 14: a hundred sessions get every change, and
        most touch nothing a given session shows). Then the rows cached past the window are
        forgotten (`forget_after`). False when unsure: the caller reads (`affected`).

        A new order queued below the window is counted in (`total`; "only the counts line"). An
        order's changes are unseen when they are only ticks (KEEP_PLACE_ACTIONS: nothing its row
        draws, nor its place, moves; the screen still reads a change to the item under the cursor),
        or when it is not on view and either
        - only re-ranked (overrides) from and to a due time later than the last row's on view (a
          full window, so nothing below it shows; no class filter, which an override may cross), or
        - created straight through (`created` and its `auto_release` in the one transaction) and
          in no state this view holds since: it was never in the view, in any read."""
        f = self.filter
        if f.search:
            return False  # a search is not an index read: what matches is not known from events
        end = first + height
        if end > self.total:
            return False  # a short window: an order landing anywhere below shows
        shown: set[int] = set()
        for i in range(first, end):
            r = self._cached(i)
            if r is None:
                return False
            shown.add(r["id"])
        last = self._cached(end - 1)
        last_due, last_rank = last["due_at"], orders_read.rank(orders_read.key_of(last))
        grow = 0  # new orders counted in, all below the window
        by_order: dict[int, list[Event]] = {}
        for ev in batch:
            if ev.entity_id is None:
                return False
            by_order.setdefault(ev.entity_id, []).append(ev)
        for oid, evs in by_order.items():
            if all(e.action in KEEP_PLACE_ACTIONS and "state" not in e.data for e in evs):
                continue  # on view or not, nothing drawn for it moves
            if oid in shown:
                return False
            if self._stays_below(evs, last_due) or self._never_in_view(evs):
                continue
            landed = self._created_below(evs, last_rank)
            if landed is None:
                return False
            grow += landed
        self.total += grow
        self.forget_after(end)
        return True

    def _stays_below(self, evs: list[Event], last_due: Any) -> bool:
        if self.filter.priorities or not isinstance(last_due, (int, float)):
            return False
        for e in evs:
            if e.action != "override":
                return False
            for side in ("before", "after"):
                due = (e.data.get(side) or {}).get("due_at")
                if not isinstance(due, (int, float)) or due <= last_due:
                    return False
        return True

    def _created_below(self, evs: list[Event], last_rank: tuple | None) -> int | None:
        """A new order (its `created` alone, after the count was read): 1 when this view holds it,
        below the window (its `queue_key` ranks after the last row on view); 0 when the view does
        not hold it; None when unsure."""
        f = self.filter
        made = evs[0]
        key = made.data.get("queue_key")
        if len(evs) != 1 or made.action != "created" or made.id <= self.as_of or not isinstance(key, list):
            return None
        d = made.data
        held = ((not f.states or d.get("state") in f.states) and (not f.channels or d.get("channel") in f.channels)
                and (not f.priorities or d.get("priority") in f.priorities) and not f.claimed_by)  # new: unclaimed
        if not held:
            return 0
        rank = orders_read.rank(tuple(key))
        return 1 if rank is not None and last_rank is not None and rank > last_rank else None

    def _never_in_view(self, evs: list[Event]) -> bool:
        states = self.filter.states
        if not states or len(evs) < 2:
            return False
        made, released = evs[0], evs[1]
        if (made.action != "created" or released.action != "auto_release" or released.id != made.id + 1
                or not released.data.get("straight_through")):
            return False
        return all(e.data.get("state", "released") not in states for e in evs[1:])

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
            if len(shown) == height:
                last = orders_read.rank(orders_read.key_of(shown[-1]))
                for key in orders_read.members(self.desk.store.conn, self.filter, sorted(ids)):
                    k = orders_read.rank(key)
                    if last is None or k is None or k < last:
                        return True
        except dbapi.Error:
            return True
        # the count is the same and nothing on view changed; below the window, rows may have moved
        self.forget_after(first + height)
        return False

    def patch(self, ids: set[int]) -> bool:
        """Re-read just these orders' rows into the cache, when that is all that changed: the count
        is the same and each of them is cached and keeps its place (same key, still in the view).
        False (cache untouched) when the view must be re-read whole."""
        conn = self.desk.store.conn
        where: dict[int, tuple[int, int]] = {}
        for n, page in self._pages.items():
            for k, r in enumerate(page):
                if r["id"] in ids and self._cached(n * self.PAGE + k) is r:
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
                for k in range(self.PAGE):
                    r = self.row(n * self.PAGE + k)
                    if r is not None and r["id"] == order_id:
                        return n * self.PAGE + k
            return orders_read.position(self.desk.store.conn, self.filter, order_id)
        except (OrderqError, dbapi.Error):
            return None

