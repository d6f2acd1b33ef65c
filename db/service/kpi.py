"""KPIs, the wallboard's figures and the simulator's history: indexed aggregate reads only.

Every query here is an index range (released_at, received_at, shipped_at, returns' time columns,
events(action, at)) or an index-only count over the open states; none walks the event log or the
whole orders table, so a wallboard can recompute on every change (see m200_kpi_indexes).
The arithmetic lives in `core.kpi`; this module only fetches the rows it needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core import kpi, kpi_report
from core.kpi import OPEN_ORDER_STATES, Window
from core.kpi_report import KpiInput
from core.triage import PAUSING_HOLDS
from core.permissions import Action
from db.dbapi import Connection, Row
from db import dialect, events, outbox
from db.convert import ts
from db.service.claiming import settle_leases
from db.service.context import Context
from db.service.sessions import STALE_S, still_running



def local_zone() -> tzinfo:
    """The server's local time zone (the default KPI window is 'today' there)."""
    return datetime.now().astimezone().tzinfo  # type: ignore[return-value]


def _in(values: tuple[str, ...]) -> str:
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


@dataclass
class WallItem:
    number: str
    priority: str
    state: str
    due_at: float
    claimed_by: str | None
    customer: str                      # the customer's code
    customer_name: str = ""
    hold_reason: str | None = None     # why an on-hold item waits (most breaches are holds)


@dataclass
class Wallboard:
    """One refresh of the wallboard: the KPI report plus what only the board shows."""

    now: datetime
    report: dict[str, dict[str, Any]]
    throughput: list[int]              # releases per hour, last 12 hours, oldest first
    breached: list[WallItem]
    at_risk: list[WallItem]
    reps: list[dict[str, Any]]         # per rep: released, avg handling, claims, holding, online screen
    online: list[dict[str, Any]]       # sessions seen lately: user, screen, seen_at
    #: the delivery outbox (db.outbox): {"pending": backlog, "failed": given up or never sendable}
    deliveries: dict[str, int] = field(default_factory=lambda: {"pending": 0, "failed": 0})


def _running_due_counts(c: Connection, t: float, near: float) -> dict[str, int]:
    """Open orders whose SLA clock runs (queued, in progress, on a hold that does not pause it):
    how many are past due at t, and how many are due in [t, near). Index ranges, no rows read."""
    count = "COUNT(CASE WHEN due_at < :t THEN 1 END), COUNT(CASE WHEN due_at >= :t THEN 1 END)"
    sql = (f"SELECT {count} FROM orders WHERE state IN ('queued', 'in_progress')"
           " AND due_at < :near"
           f" UNION ALL SELECT {count} FROM orders WHERE state = 'on_hold'"
           f" AND due_at < :near AND COALESCE(hold_reason, '') NOT IN {_in(PAUSING_HOLDS)}")
    rows = c.execute(sql, {"t": t, "near": near}).fetchall()
    return {"running_breached": int(sum(r[0] for r in rows)), "running_at_risk": int(sum(r[1] for r in rows))}


#: the page cache of a session that shows the wallboard (KiB; db.dialect.small_cache)
BOARD_CACHE_KIB = 512


class KpiService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._pairs_key: tuple[float, float] | None = None
        self._pairs: dict[int, dict[str, Any]] = {}
        self._pairs_upto = 0
        self._small_cache = False

    @property
    def _c(self) -> Connection:
        return self.ctx.store.conn

    # ---- windows ------------------------------------------------------------------------
    def today(self, local: tzinfo | None = None) -> Window:
        return kpi.today(self.ctx.now(), local or local_zone())

    # ---- raw inputs ---------------------------------------------------------------------
    def _inputs(self, c: Connection, w: Window, now: datetime) -> KpiInput:
        lo, hi = w.lo, w.hi
        near = kpi.at_risk_until(ts(now), self.ctx.rules.at_risk, self.ctx.rules.calendar)
        q = c.execute
        join = dialect.of(c).ordered_join
        return KpiInput(
            # index-only: ix_orders_state_queue (state, due_at, priority_level, …)
            order_counts=q(
                f"SELECT state, 'P' || priority_level AS priority, COUNT(*) AS n FROM orders"
                f" WHERE state IN {_in(OPEN_ORDER_STATES)} GROUP BY state, priority_level"
            ).fetchall(),
            oldest_queued_received_at=q("SELECT MIN(received_at) FROM orders WHERE state = 'queued'").fetchone()[0],
            # breached / at risk, counted in the index (ix_orders_state_queue, ix_orders_on_hold_kpi):
            # an order whose SLA clock runs is due at its due_at. Only running customer holds, whose
            # due time moves on with the wait, are read as rows (a few; a hold can only push the due
            # time later, so due_at < now + at_risk picks every candidate). Issue 14: the wallboard
            # recomputes on every change, and reading every overdue order cost each change.
            near_due=q(
                f"SELECT state, due_at, hold_reason, hold_started_at FROM orders"
                f" WHERE state = 'on_hold' AND due_at < ? AND hold_reason IN {_in(PAUSING_HOLDS)}", (near,)
            ).fetchall(),
            **_running_due_counts(c, ts(now), near),
            released=q(
                "SELECT received_at, released_at, due_at, straight_through, released_by, history FROM orders"
                " WHERE released_at >= ? AND released_at < ?", (lo, hi)
            ).fetchall(),
            # ever held: still carrying a hold reason (on hold, or cancelled while held), or a hold /
            # unhold event since the window opened (a hold of an order received in the window cannot
            # be older than the window)
            received=q(
                f"""WITH held(id) AS (SELECT entity_id FROM events
                                     WHERE action IN ('hold', 'unhold') AND {events.by_action()} AND at >= :lo
                                       AND entity = 'order')
                    SELECT channel, state, (hold_reason IS NOT NULL OR id IN (SELECT id FROM held)) AS ever_held, history,
                           COUNT(*) AS n
                    FROM orders WHERE received_at >= :lo AND received_at < :hi
                    GROUP BY channel, state, ever_held, history""", {"lo": lo, "hi": hi}
            ).fetchall(),
            return_counts=q("SELECT state, COUNT(*) AS n FROM returns GROUP BY state").fetchall(),
            units_received=int(q(
                f"SELECT COALESCE(SUM(l.qty_received), 0) FROM returns r {join} return_lines l"
                " ON l.return_id = r.id WHERE r.received_at >= ? AND r.received_at < ?", (lo, hi)
            ).fetchone()[0]),
            units_shipped=int(q(
                f"SELECT COALESCE(SUM(l.qty), 0) FROM orders o {join} order_lines l ON l.order_id = o.id"
                " WHERE o.shipped_at >= ? AND o.shipped_at < ?", (lo, hi)
            ).fetchone()[0]),
            returns_resolved=q(
                "SELECT requested_at, received_at, resolved_at, history FROM returns"
                " WHERE resolved_at >= ? AND resolved_at < ?",
                (lo, hi),
            ).fetchall(),
            reason_lines=q(
                f"SELECT l.reason, l.qty FROM returns r {join} return_lines l ON l.return_id = r.id"
                " WHERE r.requested_at >= ? AND r.requested_at < ?", (lo, hi)
            ).fetchall(),
            disposition_lines=q(
                f"SELECT l.disposition, l.qty, l.qty_received FROM returns r {join} return_lines l"
                " ON l.return_id = r.id WHERE r.inspected_at >= ? AND r.inspected_at < ?", (lo, hi),
            ).fetchall(),
        )

    @staticmethod
    def _pairs_sql(c: Connection) -> str:
        d = dialect.of(c)
        return f"""SELECT e.id, e.actor AS rep, e.at AS released_at,
                      (SELECT k.at FROM events k WHERE k.entity = 'order' AND k.entity_id = e.entity_id
                         AND k.action = 'claim' AND k.id < e.id
                         AND {d.json_text('k.data', 'token')} = {d.json_text('e.data', 'token')}
                       ORDER BY k.id DESC LIMIT 1) AS claimed_at
               FROM events e WHERE e.action = 'release' AND {events.by_action('e')} AND e.at >= ? AND e.at < ?
                 AND e.entity = 'order'"""

    def _handling_pairs(self, c: Connection, w: Window) -> list[dict[str, Any]]:
        """Each release by a rep in the window with the time of the claim that carried its token.

        Events are append-only, so a pair never changes once read: this service keeps the window's
        pairs and afterwards reads only release events newer than the last one it saw.
        """
        key = (w.lo, w.hi)
        if self._pairs_key != key:
            rows = c.execute(self._pairs_sql(c), (w.lo, w.hi)).fetchall()
            self._pairs_key, self._pairs = key, {}
        else:
            rows = c.execute(self._pairs_sql(c) + " AND e.id > ?", (w.lo, w.hi, self._pairs_upto)).fetchall()
        for r in rows:
            self._pairs[r["id"]] = {"rep": r["rep"], "released_at": r["released_at"], "claimed_at": r["claimed_at"]}
            self._pairs_upto = max(self._pairs_upto, r["id"])
        return list(self._pairs.values())

    def _claims(self, c: Connection) -> list[Row]:
        """Who holds what now: the stored claims, read after `settle_leases` returned the lapsed
        ones, so this agrees with the queue's states and counts (one truth, not a second predicate)."""
        return c.execute(
            """SELECT claimed_by, number, 'order' AS kind FROM orders WHERE claimed_by IS NOT NULL
               UNION ALL
               SELECT claimed_by, number, 'return' AS kind FROM returns WHERE claimed_by IS NOT NULL
               ORDER BY 1, 2""",
        ).fetchall()

    # ---- public reads -------------------------------------------------------------------
    def report(self, w: Window) -> dict[str, dict[str, Any]]:
        """`orderq kpi --json`: exactly the keys of SPEC §2."""
        self.ctx.require(Action.KPI)
        settle_leases(self.ctx)
        now = self.ctx.now()
        with self.ctx.store.read() as c:
            inp = self._inputs(c, w, now)
        return kpi_report.report(inp, now, self.ctx.rules.at_risk, self.ctx.rules.calendar)

    def breakdown(self, w: Window, local: tzinfo | None = None) -> dict[str, Any]:
        """Per rep (released, average handling time, claims now) and per hour (releases)."""
        self.ctx.require(Action.KPI)
        settle_leases(self.ctx)
        with self.ctx.store.read() as c:
            rel = c.execute(
                "SELECT released_at, released_by, history FROM orders WHERE released_at >= ? AND released_at < ?",
                (w.lo, w.hi)
            ).fetchall()
            pairs = self._handling_pairs(c, w)
            deliveries = outbox.counts(c)
            claims = self._claims(c)
        return {
            "by_rep": kpi.per_rep(rel, pairs, claims),
            "by_hour": kpi.per_hour(rel, pairs, w, local or local_zone()),
            "straight_through": kpi.released_by_rep(kpi.live(rel)).get("system", 0),
        }

    def wallboard(self, *, items: int = 5, hours: int = 12) -> Wallboard:
        """Everything the supervisor's wallboard shows, in one short read transaction."""
        self.ctx.require(Action.WALLBOARD)
        settle_leases(self.ctx)
        now = self.ctx.now()
        w = self.today()
        t = ts(now)
        near = kpi.at_risk_until(t, self.ctx.rules.at_risk, self.ctx.rules.calendar)
        spark_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        with self.ctx.store.read() as c:
            if not self._small_cache:
                # the board rereads today's released and received orders at most once a second, in
                # a session that lasts all day: a small page cache, not the default 2 MB kept full
                dialect.of(c).small_cache(c, BOARD_CACHE_KIB)
                self._small_cache = True
            inp = self._inputs(c, w, now)
            spark = [r[0] for r in c.execute(
                "SELECT released_at FROM orders WHERE released_at >= ? AND released_at < ?",
                (ts(spark_end) - hours * 3600, ts(spark_end)))]
            cols = ("SELECT o.number, o.priority, o.state, o.due_at, o.claimed_by, o.hold_reason,"
                    " c.code AS customer, c.name AS customer_name"
                    " FROM orders o JOIN customers c ON c.id = o.customer_id")
            # the lists leave out orders waiting on the customer (their SLA clock is paused)
            running = (f"o.state IN {_in(OPEN_ORDER_STATES)} AND NOT (o.state = 'on_hold'"
                       f" AND COALESCE(o.hold_reason, '') IN {_in(PAUSING_HOLDS)})")
            breached = c.execute(
                f"{cols} WHERE {running} AND o.due_at < ? ORDER BY o.due_at LIMIT ?", (t, items)).fetchall()
            at_risk = c.execute(
                f"{cols} WHERE {running} AND o.due_at >= ? AND o.due_at < ? ORDER BY o.due_at LIMIT ?",
                (t, near, items)).fetchall()
            pairs = self._handling_pairs(c, w)
            deliveries = outbox.counts(c)
            claims = self._claims(c)
            beats = still_running(c, c.execute("SELECT \"user\", screen, seen_at, pid FROM sessions WHERE seen_at >= ?",
                                         (t - STALE_S,)).fetchall())
            latest: dict[tuple[str, str | None], Any] = {}
            for b in beats:  # each user's screen once, at its latest beat
                k = (b["user"], b["screen"])
                latest[k] = max(latest.get(k, b["seen_at"]), b["seen_at"])
            sessions = [{"user": u, "screen": scr, "seen_at": at} for (u, scr), at in sorted(latest.items(),
                        key=lambda kv: kv[0][0])]
        report = kpi_report.report(inp, now, self.ctx.rules.at_risk, self.ctx.rules.calendar)
        reps = kpi.per_rep(inp.released, pairs, claims)
        online = [{"user": s["user"], "screen": s["screen"], "seen_at": s["seen_at"]} for s in sessions]
        screens: dict[str, str] = {}
        for s in online:
            screens.setdefault(s["user"], s["screen"] or "")
        known = {r["rep"] for r in reps}
        for user in screens:
            if user not in known:
                reps.append({"rep": user, "released": 0, "avg_handling_s": None, "claims": 0, "holding": []})
        for r in reps:
            r["online"] = r["rep"] in screens
            r["screen"] = screens.get(r["rep"])

        def item(r: Row) -> WallItem:
            return WallItem(r["number"], r["priority"], r["state"], r["due_at"], r["claimed_by"], r["customer"],
                            r["customer_name"] or "", r["hold_reason"])

        return Wallboard(now=now, report=report, throughput=kpi.hourly_counts(spark, spark_end, hours),
                         breached=[item(r) for r in breached], at_risk=[item(r) for r in at_risk],
                         reps=reps, online=online, deliveries=deliveries)

    # ---- the simulator's history ---------------------------------------------------------
    def history(self, *, desk_hours: bool = True) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
        """Arrivals that needed a rep (not straight-through, not imported history), and handling times
        (claim→release, s) per class.

        Arrivals: {received_at, priority, value} in received order; handling times from every release
        event whose claim carried the same token. With `desk_hours` (the simulator's default axis), a
        handling time counts desk seconds only (a claim at 17:55 released at 08:05 is 10 minutes of
        work), and a release after closing is overtime, which a desk-hours simulation does not model:
        counting it would make the same desk replay differently before and after 18:00.
        """
        self.ctx.require(Action.KPI)
        cal = self.ctx.store.calendar  # the rules' desk hours: the same clock the SLAs count
        with self.ctx.store.read() as c:
            arrivals = [
                {"received_at": r[0], "priority": r[1], "value": r[2] / 100.0}
                for r in c.execute(
                    "SELECT received_at, priority, total_cents FROM orders WHERE straight_through = 0 AND history = 0"
                    " ORDER BY received_at, id")
            ]
            service: dict[str, list[float]] = {}
            d = dialect.of(c)
            for r in c.execute(
                f"""SELECT o.priority, e.at - (SELECT k.at FROM events k WHERE k.entity = 'order'
                          AND k.entity_id = e.entity_id AND k.action = 'claim' AND k.id < e.id
                          AND {d.json_text('k.data', 'token')} = {d.json_text('e.data', 'token')}
                          ORDER BY k.id DESC LIMIT 1) AS handling, e.at
                   FROM events e JOIN orders o ON o.id = e.entity_id
                   WHERE e.action = 'release' AND {events.by_action('e')} AND e.entity = 'order'"""
            ):
                if r[1] is None or r[1] <= 0 or (desk_hours and not cal.is_open(r[2])):
                    continue
                handling = cal.open_s(r[2] - r[1], r[2]) if desk_hours else r[1]
                service.setdefault(r[0], []).append(float(handling))
        return arrivals, service
