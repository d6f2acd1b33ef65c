"""KPIs, the wallboard's figures and the simulator's history: indexed aggregate reads only.

Every query here is an index range (released_at, received_at, shipped_at, returns' time columns,
events(action, at)) or an index-only count over the open states; none walks the event log or the
whole orders table, so a wallboard can recompute on every change (see m200_kpi_indexes).
The arithmetic lives in `core.kpi`; this module only fetches the rows it needs.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core import kpi
from core.kpi import OPEN_ORDER_STATES, OPEN_RETURN_STATES, KpiInput, Window
from core.permissions import Action
from db.convert import ts
from db.service.context import Context

ONLINE_S = 90.0  # online: seen within 3 heartbeats (the app shell beats every 30 s; db/service/sessions.py STALE_S)


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
    customer: str


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
    extra: dict[str, Any] = field(default_factory=dict)


class KpiService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def _c(self) -> sqlite3.Connection:
        return self.ctx.store.conn

    # ---- windows ------------------------------------------------------------------------
    def today(self, local: tzinfo | None = None) -> Window:
        return kpi.today(self.ctx.now(), local or local_zone())

    # ---- raw inputs ---------------------------------------------------------------------
    def _inputs(self, c: sqlite3.Connection, w: Window, now: datetime) -> KpiInput:
        lo, hi = w.lo, w.hi
        near = ts(now) + self.ctx.rules.at_risk.total_seconds()
        q = c.execute
        return KpiInput(
            order_counts=q(
                f"SELECT state, 'P' || priority_level AS priority, COUNT(*) AS n FROM orders"
                f" WHERE state IN {_in(OPEN_ORDER_STATES)} GROUP BY state, priority_level"
            ).fetchall(),
            oldest_queued_received_at=q("SELECT MIN(received_at) FROM orders WHERE state = 'queued'").fetchone()[0],
            near_due=q(
                f"SELECT state, due_at, hold_reason, hold_started_at FROM orders"
                f" WHERE state IN {_in(OPEN_ORDER_STATES)} AND due_at < ?", (near,)
            ).fetchall(),
            released=q(
                "SELECT received_at, released_at, due_at, straight_through, released_by FROM orders"
                " WHERE released_at >= ? AND released_at < ?", (lo, hi)
            ).fetchall(),
            received=q(
                """SELECT o.received_at, o.channel, o.state,
                          (o.hold_reason IS NOT NULL OR EXISTS (
                              SELECT 1 FROM events e WHERE e.entity = 'order' AND e.entity_id = o.id
                                AND (e.action = 'hold' OR (e.action = 'created'
                                     AND json_extract(e.data, '$.hold') IS NOT NULL)))) AS ever_held
                   FROM orders o WHERE o.received_at >= ? AND o.received_at < ?""", (lo, hi)
            ).fetchall(),
            return_counts=q("SELECT state, COUNT(*) AS n FROM returns GROUP BY state").fetchall(),
            units_received=q(
                "SELECT r.received_at, l.qty_received FROM returns r JOIN return_lines l ON l.return_id = r.id"
                " WHERE r.received_at >= ? AND r.received_at < ?", (lo, hi)
            ).fetchall(),
            units_shipped=q(
                "SELECT o.shipped_at, (SELECT SUM(l.qty) FROM order_lines l WHERE l.order_id = o.id) AS qty"
                " FROM orders o WHERE o.shipped_at >= ? AND o.shipped_at < ?", (lo, hi)
            ).fetchall(),
            returns_resolved=q(
                "SELECT requested_at, received_at, resolved_at FROM returns WHERE resolved_at >= ? AND resolved_at < ?",
                (lo, hi),
            ).fetchall(),
            reason_lines=q(
                "SELECT r.requested_at, l.reason, l.qty FROM returns r JOIN return_lines l ON l.return_id = r.id"
                " WHERE r.requested_at >= ? AND r.requested_at < ?", (lo, hi)
            ).fetchall(),
            disposition_lines=q(
                "SELECT r.inspected_at, l.disposition, l.qty, l.qty_received FROM returns r"
                " JOIN return_lines l ON l.return_id = r.id WHERE r.inspected_at >= ? AND r.inspected_at < ?",
                (lo, hi),
            ).fetchall(),
        )

    def _handling_pairs(self, c: sqlite3.Connection, w: Window) -> list[sqlite3.Row]:
        """Each release by a rep in the window with the time of the claim that carried its token."""
        return c.execute(
            """SELECT e.actor AS rep, e.at AS released_at,
                      (SELECT k.at FROM events k WHERE k.entity = 'order' AND k.entity_id = e.entity_id
                         AND k.action = 'claim' AND k.id < e.id
                         AND json_extract(k.data, '$.token') = json_extract(e.data, '$.token')
                       ORDER BY k.id DESC LIMIT 1) AS claimed_at
               FROM events e WHERE e.action = 'release' AND e.at >= ? AND e.at < ? AND e.entity = 'order'""",
            (w.lo, w.hi),
        ).fetchall()

    def _claims(self, c: sqlite3.Connection, now: datetime) -> list[sqlite3.Row]:
        t = ts(now)
        return c.execute(
            """SELECT claimed_by, number, 'order' AS kind FROM orders WHERE claimed_by IS NOT NULL AND lease_expires_at >= ?
               UNION ALL
               SELECT claimed_by, number, 'return' AS kind FROM returns WHERE claimed_by IS NOT NULL AND lease_expires_at >= ?
               ORDER BY 1, 2""",
            (t, t),
        ).fetchall()

    # ---- public reads -------------------------------------------------------------------
    def report(self, w: Window) -> dict[str, dict[str, Any]]:
        """`orderq kpi --json`: exactly the keys of SPEC §2."""
        self.ctx.require(Action.KPI)
        now = self.ctx.now()
        with self.ctx.store.read() as c:
            inp = self._inputs(c, w, now)
        return kpi.report(inp, w, now, self.ctx.rules.at_risk)

    def breakdown(self, w: Window, local: tzinfo | None = None) -> dict[str, Any]:
        """Per rep (released, average handling time, claims now) and per hour (releases)."""
        self.ctx.require(Action.KPI)
        now = self.ctx.now()
        with self.ctx.store.read() as c:
            rel = c.execute(
                "SELECT released_at, released_by FROM orders WHERE released_at >= ? AND released_at < ?", (w.lo, w.hi)
            ).fetchall()
            pairs = self._handling_pairs(c, w)
            claims = self._claims(c, now)
        return {
            "by_rep": kpi.per_rep(rel, pairs, claims, w),
            "by_hour": kpi.released_by_hour(rel, w, local or local_zone()),
            "straight_through": kpi.released_by_rep(rel, w).get("system", 0),
        }

    def wallboard(self, *, items: int = 5, hours: int = 12) -> Wallboard:
        """Everything the supervisor's wallboard shows, in one short read transaction."""
        self.ctx.require(Action.WALLBOARD)
        now = self.ctx.now()
        w = self.today()
        t = ts(now)
        near = t + self.ctx.rules.at_risk.total_seconds()
        spark_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        with self.ctx.store.read() as c:
            inp = self._inputs(c, w, now)
            spark = [r[0] for r in c.execute(
                "SELECT released_at FROM orders WHERE released_at >= ? AND released_at < ?",
                (ts(spark_end) - hours * 3600, ts(spark_end)))]
            cols = ("SELECT o.number, o.priority, o.state, o.due_at, o.claimed_by, c.code AS customer"
                    " FROM orders o JOIN customers c ON c.id = o.customer_id")
            breached = c.execute(
                f"{cols} WHERE o.state IN {_in(OPEN_ORDER_STATES)} AND o.due_at < ? ORDER BY o.due_at LIMIT ?",
                (t, items)).fetchall()
            at_risk = c.execute(
                f"{cols} WHERE o.state IN {_in(OPEN_ORDER_STATES)} AND o.due_at >= ? AND o.due_at < ?"
                " ORDER BY o.due_at LIMIT ?", (t, near, items)).fetchall()
            rel = c.execute(
                "SELECT released_at, released_by FROM orders WHERE released_at >= ? AND released_at < ?", (w.lo, w.hi)
            ).fetchall()
            pairs = self._handling_pairs(c, w)
            claims = self._claims(c, now)
            sessions = c.execute(
                "SELECT user, screen, MAX(seen_at) AS seen_at FROM sessions WHERE seen_at >= ? GROUP BY user, screen"
                " ORDER BY user", (t - ONLINE_S,)).fetchall()
        report = kpi.report(inp, w, now, self.ctx.rules.at_risk)
        reps = kpi.per_rep(rel, pairs, claims, w)
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

        def item(r: sqlite3.Row) -> WallItem:
            return WallItem(r["number"], r["priority"], r["state"], r["due_at"], r["claimed_by"], r["customer"])

        return Wallboard(now=now, report=report, throughput=kpi.hourly_counts(spark, spark_end, hours),
                         breached=[item(r) for r in breached], at_risk=[item(r) for r in at_risk],
                         reps=reps, online=online)

    # ---- the simulator's history ---------------------------------------------------------
    def history(self) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
        """Arrivals that needed a rep (not straight-through), and handling times (claim→release, s) per class.

        Arrivals: {received_at, priority, value} in received order; handling times from every release
        event whose claim carried the same token.
        """
        self.ctx.require(Action.KPI)
        with self.ctx.store.read() as c:
            arrivals = [
                {"received_at": r[0], "priority": r[1], "value": r[2] / 100.0}
                for r in c.execute(
                    "SELECT received_at, priority, total_cents FROM orders WHERE straight_through = 0"
                    " ORDER BY received_at, id")
            ]
            service: dict[str, list[float]] = {}
            for r in c.execute(
                """SELECT o.priority, e.at - (SELECT k.at FROM events k WHERE k.entity = 'order'
                          AND k.entity_id = e.entity_id AND k.action = 'claim' AND k.id < e.id
                          AND json_extract(k.data, '$.token') = json_extract(e.data, '$.token')
                          ORDER BY k.id DESC LIMIT 1) AS handling
                   FROM events e JOIN orders o ON o.id = e.entity_id
                   WHERE e.action = 'release' AND e.entity = 'order'"""
            ):
                if r[1] is not None and r[1] > 0:
                    service.setdefault(r[0], []).append(float(r[1]))
        return arrivals, service
