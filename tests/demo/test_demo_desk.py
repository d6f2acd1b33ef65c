"""`orderq demo` looks like a real desk (issue 12 §2): a team working deadline-first in desk hours,
one or two claims each, holds that end, hardly anything urgent overdue; it refuses a database that
already holds data; and `simulate --from-db` on it gives the same table every time, with the team's
size as its rep count. Real CLI processes on real WAL files; the fixed-clock cases generate in process
on a real file so that any hour of the week can be checked, not only the hour the suite runs at."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.calendar import parse_calendar
from core.open_time import OpenTimeline
from core.rules import parse_rules
from core.triage import PAUSING_HOLDS
from db import demo
from db.store import Store
from tests.conftest import json_lines, rules_with_calendar, run_cli

#: the most P1/P2 orders left overdue in the queue (queued, being worked, or on a hold that does not
#: pause the SLA) at any moment: the ones that came in just before closing under the 24x7 SLA clock.
MAX_OVERDUE_URGENT = 5


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("desk") / "desk.db"
    run_cli("--db", str(p), "demo", "--orders", "2000", "--seed", "7", check=True)
    return p


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_team_of_reps_each_holding_one_or_two_claims(desk_db: Path) -> None:
    users = json_lines(run_cli("--db", str(desk_db), "users", "list", "--json", check=True).stdout)
    reps = {u["name"] for u in users if u["role"] == "rep"}
    assert {"alice", "bob"} <= reps and len(reps - {"alice", "bob"}) >= 6, reps
    events = json_lines(run_cli("--db", str(desk_db), "events", "--json", check=True).stdout)
    live: dict[str, set[str]] = defaultdict(set)  # actor -> tokens held
    most: Counter[str] = Counter()
    holder: dict[str, str] = {}
    released_by: Counter[str] = Counter()
    for e in sorted(events, key=lambda e: (_iso(e["at"]), e["id"])):
        kind, tok = e["data"].get("claim"), e["data"].get("token")
        if kind == "acquire":
            live[e["actor"]].add(tok)
            holder[tok] = e["actor"]
            most[e["actor"]] = max(most[e["actor"]], len(live[e["actor"]]))
        elif kind == "drop":
            live[holder.get(tok, e["actor"])].discard(tok)
        if e["action"] == "release":
            released_by[e["actor"]] += 1
    assert max(most.values()) <= 2, most
    working = {r for r in reps if released_by[r] >= 20}
    assert len(working) >= 8, released_by  # the whole team works, not two reps


#: the default rules' desk hours (Mon–Fri 08:00–18:00 UTC), which the demo follows
is_open = parse_calendar(None).is_open


def test_orders_arrive_and_are_worked_in_desk_hours(desk_db: Path) -> None:
    events = json_lines(run_cli("--db", str(desk_db), "events", "--json", check=True).stdout)
    created = [_iso(e["at"]).timestamp() for e in events if e["action"] == "created" and e["entity"] == "order"]
    inside = sum(is_open(t) for t in created) / len(created)
    assert inside >= 0.85, f"only {inside:.0%} of orders arrive in desk hours"
    claims = [_iso(e["at"]).timestamp() for e in events if e["action"] == "claim" and e["entity"] == "order"]
    assert all(is_open(t) for t in claims), "a rep claimed an order while the desk was closed"


def _overdue_urgent(rows: list[dict], now: datetime) -> list[dict]:
    return [r for r in rows if r["priority"] in ("P1", "P2") and _iso(r["due_at"]) < now
            and not (r["state"] == "on_hold" and r["hold_reason"] in PAUSING_HOLDS)]


def test_few_urgent_orders_are_overdue_now_and_holds_are_recent(desk_db: Path) -> None:
    rows = []
    for state in ("queued", "in_progress", "on_hold"):
        rows += json_lines(run_cli("--db", str(desk_db), "order", "list", "--state", state, "--limit", "100000",
                                   "--json", check=True).stdout)
    now = datetime.now(UTC)
    assert len(_overdue_urgent(rows, now)) <= MAX_OVERDUE_URGENT, _overdue_urgent(rows, now)
    assert any(r["state"] == "queued" for r in rows), "a new user's queue should show work waiting"
    holds = [r for r in rows if r["state"] == "on_hold"]
    assert len(holds) <= 15, f"{len(holds)} orders on hold: holds should be lifted or escalated"


@pytest.mark.parametrize("when", ["2026-11-23T07:00", "2026-11-23T08:05", "2026-11-24T12:00", "2026-11-25T17:58",
                                  "2026-11-26T18:20", "2026-11-27T22:00", "2026-11-28T12:00"])
def test_at_any_hour_of_the_week_few_urgent_orders_are_overdue(tmp_path: Path, when: str) -> None:
    now = datetime.fromisoformat(when).replace(tzinfo=UTC)
    store = Store.open(tmp_path / "at.db", create=True, clock=lambda: now)
    try:
        demo.generate(store, orders=2000, seed=1)
        demo.generate_returns(store, returns=40, seed=1)
        rows = [dict(r) for r in store.conn.execute(
            "SELECT priority, state, hold_reason, due_at FROM orders WHERE state IN ('queued','in_progress','on_hold')")]
    finally:
        store.close()
    for r in rows:
        r["due_at"] = datetime.fromtimestamp(r["due_at"], UTC).isoformat()
    assert len(_overdue_urgent(rows, now)) <= MAX_OVERDUE_URGENT, _overdue_urgent(rows, now)


@pytest.mark.parametrize("when", ["2026-11-24T12:00", "2026-11-26T18:20", "2026-11-27T22:00", "2026-11-28T12:00"])
def test_at_any_hour_the_demos_claims_hold_live_leases(tmp_path: Path, when: str) -> None:
    """A demo made after closing showed returns claimed 'two minutes ago' in desk time, so just before
    closing: their 10-minute leases had lapsed by the time anyone looked, and the first command reaped them."""
    now = datetime.fromisoformat(when).replace(tzinfo=UTC)
    store = Store.open(tmp_path / "at.db", create=True, clock=lambda: now)
    try:
        demo.generate(store, orders=300, seed=1)
        demo.generate_returns(store, returns=40, seed=1)
        leases = [r[0] for t in ("orders", "returns") for r in store.conn.execute(
            f"SELECT lease_expires_at FROM {t} WHERE claimed_by IS NOT NULL")]
    finally:
        store.close()
    assert leases, "the demo should show some work in hand"
    assert min(leases) > now.timestamp(), [datetime.fromtimestamp(x, UTC).isoformat() for x in leases]


def test_demo_refuses_a_database_that_holds_data_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    run_cli("--db", str(db), "init", check=True)
    run_cli("--db", str(db), "users", "add", "olga", "--role", "admin", check=True)
    before = run_cli("--db", str(db), "events", "--json", check=True).stdout
    p = run_cli("--db", str(db), "demo", "--orders", "20")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "already holds 1 users" in p.stderr and "--force" in p.stderr, p.stderr
    assert run_cli("--db", str(db), "events", "--json", check=True).stdout == before  # nothing written
    p = run_cli("--db", str(db), "demo", "--orders", "20", "--force")
    assert p.returncode == 0, p.stderr
    assert run_cli("--db", str(db), "check").returncode == 0
    # an empty database, as `init` leaves it, needs no --force
    fresh = tmp_path / "fresh.db"
    run_cli("--db", str(fresh), "init", check=True)
    assert run_cli("--db", str(fresh), "demo", "--orders", "20").returncode == 0


def test_check_passes_on_a_fresh_demo(desk_db: Path) -> None:
    p = run_cli("--db", str(desk_db), "check")
    assert p.returncode == 0, p.stdout


def _table(db: Path) -> str:
    return run_cli("--db", str(db), "simulate", "--from-db", check=True).stdout


def test_simulate_on_the_demo_is_the_same_table_every_time_with_the_teams_size(tmp_path: Path) -> None:
    tables = []
    for i in range(2):
        db = tmp_path / f"run{i}.db"
        run_cli("--db", str(db), "demo", "--orders", "2000", "--seed", "3", check=True)
        tables.append(_table(db))
    assert tables[0] == tables[1]
    # made at other hours of the week (desk open, closed, weekend): still the same table
    for when in ("2026-11-24T10:00", "2026-11-26T16:45", "2026-11-28T03:00"):
        now = datetime.fromisoformat(when).replace(tzinfo=UTC)
        db = tmp_path / f"at-{when[-5:-3]}.db"
        store = Store.open(db, create=True, clock=lambda: now)
        try:
            demo.generate(store, orders=2000, seed=3)
            demo.generate_returns(store, returns=40, seed=3)
        finally:
            store.close()
        assert _table(db) == tables[0], when
    head = tables[0].splitlines()[0]
    reps = int(head.split(" reps")[0].rsplit(" ", 1)[1])
    assert abs(reps - len(demo.REPS)) <= 1, head


def test_open_time_axis_skips_nights_and_weekends() -> None:
    """The demo's axis under the default calendar: open seconds from now, flat over nights and weekends."""
    mon_9 = datetime(2026, 11, 23, 9, tzinfo=UTC).timestamp()
    fri_17 = datetime(2026, 11, 27, 17, tzinfo=UTC).timestamp()
    sat = datetime(2026, 11, 28, 12, tzinfo=UTC).timestamp()
    next_mon_8 = datetime(2026, 11, 30, 8, tzinfo=UTC).timestamp()
    axis = OpenTimeline(parse_calendar(None), next_mon_8 + 7200)
    assert axis.u(fri_17) - axis.u(mon_9) == (4 * 10 + 8) * 3600
    assert axis.u(sat) == axis.u(next_mon_8) == axis.u(fri_17) + 3600 == -7200
    assert axis.at(axis.u(mon_9)) == mon_9
    assert axis.at(axis.u(next_mon_8)) == fri_17 + 3600  # the end of Friday, not Monday 08:00
    assert axis.closed_before(axis.u(next_mon_8) + 1) == (fri_17 + 3600, 62 * 3600.0)  # the weekend
    assert axis.u(mon_9 + timedelta(minutes=5).total_seconds()) - axis.u(mon_9) == 300
    assert axis.u(datetime(2025, 11, 24, 9, tzinfo=UTC).timestamp()) < -250 * 36000  # grows back on demand


RULES_CALENDAR = """
[calendar]
zone = "Europe/Berlin"
holidays = ["2026-11-26"]
[calendar.hours]
mon = ["07:00-12:00", "13:00-16:00"]
tue = "07:00-16:00"
wed = "07:00-16:00"
thu = "07:00-16:00"
fri = "07:00-16:00"
sat = "09:00-13:00"
"""


def test_the_demo_follows_the_rules_calendar_not_a_fixed_one(tmp_path: Path) -> None:
    """Under a rules file with its own desk hours (a zone, a lunch break, Saturday mornings, a holiday),
    the demo's orders arrive, are claimed and ship in those hours: nobody works the holiday or the lunch hour."""
    rules = parse_rules(rules_with_calendar(RULES_CALENDAR))
    cal = rules.calendar
    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    store = Store.open(tmp_path / "cal.db", create=True, rules=rules, clock=lambda: now)
    try:
        demo.generate(store, orders=600, seed=2)
        events = [(r[0], r[1], r[2]) for r in store.conn.execute(
            "SELECT at, action, actor FROM events WHERE entity = 'order'")]
        assert store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 600
    finally:
        store.close()
    worked = [at for at, action, actor in events if action in ("claim", "tick", "hold", "ship")]
    assert worked and all(cal.is_open(at) for at in worked), "desk work outside the rules' hours"
    holiday = datetime(2026, 11, 26, tzinfo=UTC).timestamp()
    assert not [at for at in worked if holiday - 3600 <= at < holiday + 86400]
    saturday = [at for at in worked if datetime.fromtimestamp(at, UTC).weekday() == 5]
    assert saturday, "the desk opens on Saturday mornings under these rules"
    created = [at for at, action, actor in events if action == "created" and actor == "demo"]
    assert sum(cal.is_open(at) for at in created) / len(created) >= 0.85
