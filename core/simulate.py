"""A discrete-event simulation of the order desk: the same arrivals and the same service times,
worked by N reps under first come, first served and under triage (SPEC §5).

- Each arrival needs one rep for `service_s` seconds, without pre-emption; a rep free at time t takes
  the best waiting item by the policy:
  - `fcfs`: earliest arrival first (ties: arrival order);
  - `triage`: earliest deadline first on due = arrival + SLA(class), ties by class then by value
    (highest first): the queue order of `core.triage` with the tier already folded into the class.
- An item meets its SLA when its release (start + service) is at or before its due time.
- Desk hours (the rules' calendar, `cal`): due = arrival + SLA of *open* time, and a rep's work
  advances only while the desk is open (release = start + service of open time), and nobody starts
  work while it is closed: what arrives overnight waits for the opening, and the policy picks from it.
  Waits are open time too (a night is not a wait any policy could shorten).
  The 24x7 calendar is the round-the-clock model.
- Service times come from the arrival itself when known, else they are drawn, with a seeded RNG,
  from the handling times observed for its class (any class when its own has none). They are drawn
  ONCE per arrival, before either policy runs, so both policies face exactly the same work.
Pure: text and numbers in, numbers out.
"""
from __future__ import annotations

import csv
import heapq
import io
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.calendar import ALWAYS_OPEN, Calendar
from core.enums import Priority
from core.errors import ValidationError
from core.kpi import mean, pct, percentile
from core.when import check_epoch

POLICIES = ("fcfs", "triage")
DEFAULT_SERVICE_S = 600.0
TARGET_UTILISATION = 0.85


@dataclass(frozen=True)
class Arrival:
    t: float                    # epoch seconds (or any consistent origin)
    priority: Priority
    value: float = 0.0
    service_s: float | None = None


@dataclass(frozen=True)
class Done:
    idx: int
    start: float
    end: float


# ---- inputs ----------------------------------------------------------------------------------
def _time(v: Any, row: int) -> float:
    try:
        t = float(v if isinstance(v, (int, float)) else str(v).strip())
    except (ValueError, OverflowError):
        pass
    else:
        if not math.isfinite(t):
            raise ValidationError(f"arrivals row {row}: received_at {v!r} is not a time", field="received_at")
        return t
    text = str(v).strip()
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return d.timestamp()
    except (ValueError, OverflowError):
        raise ValidationError(f"arrivals row {row}: received_at {text!r} is not a time (ISO 8601 or epoch seconds)",
                              field="received_at") from None


def arrival_from(rec: Mapping[str, Any], row: int, now: datetime | None = None) -> Arrival:
    """One arrival from a CSV/JSONL record: received_at, priority, value[, service_s]."""
    for k in ("received_at", "priority"):
        if rec.get(k) in (None, ""):
            raise ValidationError(f"arrivals row {row}: {k} is missing", field=k)
    try:
        p = Priority(str(rec["priority"]).strip().upper())
    except ValueError:
        raise ValidationError(f"arrivals row {row}: priority {rec['priority']!r} is not P1..P4", field="priority") from None
    try:
        value = float(rec.get("value") or 0)
        svc = rec.get("service_s")
        service = None if svc in (None, "") else float(svc)
    except (TypeError, ValueError):
        raise ValidationError(f"arrivals row {row}: value and service_s must be numbers", field="value") from None
    if value < 0 or (service is not None and (service <= 0 or not math.isfinite(service))):
        raise ValidationError(f"arrivals row {row}: value must be ≥ 0 and service_s > 0", field="service_s")
    t = _time(rec["received_at"], row)
    if now is not None:
        check_epoch(t, now, field=f"arrivals row {row}: received_at")
    return Arrival(t, p, value, service)


def parse_arrivals(text: str, fmt: str = "auto", *, now: datetime | None = None) -> list[Arrival]:
    """Arrivals from CSV (with a header row) or JSON Lines; `auto` looks at the first character.
    With `now`, every received_at must lie in the date window (`core.when.check_epoch`)."""
    try:
        return _parse_arrivals(text, fmt, now)
    except csv.Error as e:  # a NUL byte, an unterminated quote …: not a CSV
        raise ValidationError(f"arrivals: not a CSV file ({e})", field="arrivals") from None


def _parse_arrivals(text: str, fmt: str, now: datetime | None) -> list[Arrival]:
    body = text.lstrip("\ufeff")
    if fmt == "auto":
        fmt = "jsonl" if body.lstrip().startswith("{") else "csv"
    out: list[Arrival] = []
    if fmt == "jsonl":
        for i, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                raise ValidationError(f"arrivals line {i}: not JSON", field="arrivals") from None
            if not isinstance(rec, dict):
                raise ValidationError(f"arrivals line {i}: expected an object", field="arrivals")
            out.append(arrival_from(rec, i, now))
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(body))
        if not reader.fieldnames or "received_at" not in reader.fieldnames:
            raise ValidationError("arrivals CSV needs a header with received_at, priority, value[, service_s]",
                                  field="arrivals")
        for i, rec in enumerate(reader, start=2):
            out.append(arrival_from(rec, i, now))
    else:
        raise ValidationError(f"unknown arrivals format {fmt!r} (csv, jsonl)", field="format")
    if not out:
        raise ValidationError("no arrivals to simulate", field="arrivals")
    return sorted(out, key=lambda a: a.t)


def service_times(arrivals: Sequence[Arrival], observed: Mapping[str, Sequence[float]], seed: int) -> list[float]:
    """One service time per arrival: its own when given, else a seeded draw from its class's observed
    handling times (all classes pooled when its class has none; DEFAULT_SERVICE_S when nothing is known)."""
    rng = random.Random(seed)
    pooled = sorted(x for xs in observed.values() for x in xs if x > 0)
    by_class = {k: sorted(x for x in v if x > 0) for k, v in observed.items()}
    out = []
    for a in arrivals:
        if a.service_s is not None:
            out.append(a.service_s)
            continue
        pool = by_class.get(a.priority.value) or pooled
        out.append(rng.choice(pool) if pool else DEFAULT_SERVICE_S)
    return out


def auto_reps(arrivals: Sequence[Arrival], service: Sequence[float], target: float = TARGET_UTILISATION,
              cal: Calendar = ALWAYS_OPEN) -> int:
    """The fewest reps that keep utilisation (offered work ÷ rep time over the arrival span's open
    time) ≤ target."""
    if not arrivals:
        return 1
    span = max(cal.open_s(arrivals[0].t, arrivals[-1].t), max(service))
    return max(1, math.ceil(sum(service) / (span * target)))


# ---- the simulation --------------------------------------------------------------------------
def _due(a: Arrival, sla_s: Mapping[Priority, float], cal: Calendar) -> float:
    return cal.add_open_s(a.t, sla_s[a.priority])


def _key(policy: str, a: Arrival, idx: int, sla_s: Mapping[Priority, float], cal: Calendar) -> tuple:
    if policy == "fcfs":
        return (a.t, idx)
    if policy == "triage":
        return (_due(a, sla_s, cal), a.priority.level, -a.value, idx)
    raise ValidationError(f"unknown policy {policy!r} (fcfs, triage)", field="policy")


def run(arrivals: Sequence[Arrival], service: Sequence[float], reps: int, policy: str,
        sla_s: Mapping[Priority, float], cal: Calendar = ALWAYS_OPEN) -> list[Done]:
    """Non-pre-emptive list scheduling with `reps` identical servers; arrivals sorted by time."""
    if reps < 1:
        raise ValidationError("--reps must be at least 1", field="reps")
    n = len(arrivals)
    free = [arrivals[0].t if n else 0.0] * reps
    heapq.heapify(free)
    waiting: list[tuple] = []
    out: list[Done] = []
    clock = free[0]
    i = 0
    while i < n or waiting:
        t_free = free[0]
        if not waiting:
            clock = max(clock, t_free, arrivals[i].t)
        else:
            clock = max(clock, t_free)
        opens = cal.next_open(clock)  # a closed desk starts nothing: what arrives meanwhile waits
        clock = clock if opens is None else opens
        while i < n and arrivals[i].t <= clock:
            heapq.heappush(waiting, (_key(policy, arrivals[i], i, sla_s, cal), i))
            i += 1
        _, idx = heapq.heappop(waiting)
        end = cal.add_open_s(clock, service[idx])
        heapq.heapreplace(free, end)
        out.append(Done(idx, clock, end))
    out.sort(key=lambda d: d.idx)
    return out


def summarise(arrivals: Sequence[Arrival], done: Sequence[Done], sla_s: Mapping[Priority, float],
              cal: Calendar = ALWAYS_OPEN) -> dict[str, Any]:
    """Per class: n, SLA met % (release ≤ arrival + SLA), p90 and mean wait (start − arrival); and the
    revenue-weighted wait Σ(value × wait) ÷ Σ value over all arrivals."""
    by: dict[str, dict[str, list]] = {p.value: {"wait": [], "met": []} for p in Priority}
    vw = vs = 0.0
    for d in done:
        a = arrivals[d.idx]
        wait = cal.open_s(a.t, d.start)  # open time waited: a night is not a wait a rep could cut
        by[a.priority.value]["wait"].append(wait)
        by[a.priority.value]["met"].append(d.end <= _due(a, sla_s, cal))
        vw += a.value * wait
        vs += a.value
    classes = {}
    for p, v in by.items():
        n = len(v["wait"])
        classes[p] = {
            "n": n,
            "sla_met_pct": pct(sum(v["met"]), n),
            "p90_wait_s": percentile(v["wait"], 0.9),
            "mean_wait_s": mean(v["wait"]),
        }
    allw = [cal.open_s(arrivals[d.idx].t, d.start) for d in done]
    return {
        "by_class": classes,
        "all": {"n": len(done), "sla_met_pct": pct(sum(sum(v["met"]) for v in by.values()), len(done)),
                "p90_wait_s": percentile(allw, 0.9),
                "mean_wait_s": mean(allw)},
        "revenue_weighted_wait_s": round(vw / vs, 1) if vs else None,
    }


def compare(arrivals: Sequence[Arrival], observed: Mapping[str, Sequence[float]], *, sla_s: Mapping[Priority, float],
            policies: Iterable[str] = POLICIES, reps: int | None = None, seed: int = 1,
            cal: Calendar = ALWAYS_OPEN) -> dict[str, Any]:
    """Run each policy on the same arrivals and the same seeded service times."""
    arr = sorted(arrivals, key=lambda a: a.t)
    if not arr:
        raise ValidationError("no arrivals to simulate", field="arrivals")
    service = service_times(arr, observed, seed)
    n_reps = reps if reps is not None else auto_reps(arr, service, cal=cal)
    span = max(cal.open_s(arr[0].t, arr[-1].t), 1.0)  # rep time: open time only
    result: dict[str, Any] = {
        "arrivals": len(arr), "reps": n_reps, "seed": seed, "reps_auto": reps is None,
        "span_s": round(span, 1), "mean_service_s": round(sum(service) / len(service), 1),
        "utilisation_pct": pct(sum(service), span * n_reps),
        "policies": {},
    }
    for policy in policies:
        done = run(arr, service, n_reps, policy, sla_s, cal)
        result["policies"][policy] = summarise(arr, done, sla_s, cal)
    return result
