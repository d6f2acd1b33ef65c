"""Breached and at-risk counts are counted in the index (issue 14: the wallboard recomputes on every
change and used to read every overdue order); they must still agree with a count over every open
order's effective due time, running customer holds (SLA clock paused) included."""
from __future__ import annotations

from core.kpi import OPEN_ORDER_STATES, at_risk_until
from core.triage import effective_due
from db.convert import ts


def _set(conn, number: str, **cols) -> None:  # noqa: ANN001, ANN003
    sets = ", ".join(f"{k} = ?" for k in cols)
    conn.execute(f"UPDATE orders SET {sets} WHERE number = ?", (*cols.values(), number))


def test_breached_and_at_risk_agree_with_every_open_order(demo_db, desk_for) -> None:  # noqa: ANN001
    sam = desk_for(demo_db, "sam")
    t = ts(sam.ctx.now())
    with sam.store.write() as c:
        queued = [r[0] for r in c.execute("SELECT number FROM orders WHERE state = 'queued' ORDER BY id LIMIT 8")]
        for k, number in enumerate(queued[:3]):
            _set(c, number, due_at=t - 3600 * (k + 1))                   # overdue, clock running
        for number in queued[3:5]:
            _set(c, number, due_at=t + 600)                              # due in ten minutes: at risk
        # waiting on the customer for two hours: due a minute ago by the stored due_at, later in effect
        _set(c, queued[5], state="on_hold", hold_reason="customer_info", hold_started_at=t - 7200, due_at=t - 60)
        # a stock hold does not stop the clock: breached
        _set(c, queued[6], state="on_hold", hold_reason="stock", hold_started_at=t - 7200, due_at=t - 60)
        _set(c, queued[7], state="on_hold", hold_reason=None, hold_started_at=None, due_at=t - 30)
    rows = sam.store.conn.execute(
        f"SELECT state, due_at, hold_reason, hold_started_at FROM orders WHERE state IN {tuple(OPEN_ORDER_STATES)}"
    ).fetchall()
    cal, now = sam.store.calendar, sam.ctx.now()
    hi = at_risk_until(t, sam.ctx.rules.at_risk, cal)
    due = [effective_due(r, t, cal) for r in rows]
    breached = sum(1 for d in due if d < t)
    at_risk = sum(1 for d in due if t <= d < hi)
    assert breached >= 5 and at_risk >= 2
    got = sam.kpi.wallboard().report["orders"]
    assert (got["sla_breached_open"], got["sla_at_risk"]) == (breached, at_risk)
    assert now == sam.ctx.now()  # the fake clock stood still: the two counts saw the same instant
