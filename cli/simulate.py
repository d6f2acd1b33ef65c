"""`orderq simulate --policy fcfs|triage|both [--reps N] [--from-db|--arrivals FILE] [--seed S] [--json]`."""
from __future__ import annotations

import argparse
from pathlib import Path

from core import simulate as sim
from core.calendar import ALWAYS_OPEN
from core.enums import Priority
from core.errors import ValidationError
from core.kpi import duration_text, pct_text
from cli.common import USER_HELP, emit_json, operator_desk, table


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("simulate", help="replay arrivals under FCFS and triage, compare SLA met and waits",
                       parents=[parent])
    p.add_argument("--policy", choices=["fcfs", "triage", "both"], default="both",
                   help="first come first served, deadline-first triage, or both side by side (default)")
    p.add_argument("--reps", type=int, help="reps working the queue (default: enough for ~85%% utilisation)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--from-db", action="store_true", help="arrivals and handling times from this database (default)")
    src.add_argument("--arrivals", metavar="FILE", help="CSV or JSONL: received_at, priority, value[, service_s]")
    p.add_argument("--seed", type=int, default=1, help="seed for drawing service times (default 1)")
    p.add_argument("--hours", choices=["desk", "24x7"], default="desk",
                   help="desk (default): reps work the rules' desk hours (calendar), arrivals while closed wait for "
                        "the opening and SLAs count open time; 24x7: the clock never stops")
    p.add_argument("--user", help=USER_HELP)
    p.add_argument("--json", action="store_true", help="the comparison as one JSON object")
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.reps is not None and args.reps < 1:
        raise ValidationError("--reps must be at least 1", field="reps")
    policies = sim.POLICIES if args.policy == "both" else (args.policy,)
    desk = operator_desk(args)
    try:
        rules = desk.store.rules
        now = desk.now()
        arrivals_db, observed = desk.kpi.history(desk_hours=args.hours == "desk")
    finally:
        desk.store.close()
    if args.arrivals:
        try:
            text = Path(args.arrivals).read_text(encoding="utf-8")
        except OSError as e:
            raise ValidationError(f"cannot read {args.arrivals}: {e.strerror}", field="arrivals") from None
        except UnicodeDecodeError as e:
            raise ValidationError(f"{args.arrivals} is not UTF-8 text (byte {e.start}): give a CSV or JSONL file",
                                  field="arrivals") from None
        arrivals = sim.parse_arrivals(text, now=now)
    else:
        arrivals = [sim.Arrival(a["received_at"], Priority(a["priority"]), a["value"]) for a in arrivals_db]
        if not arrivals:
            raise ValidationError("this database has no orders that needed a rep; run `orderq demo` or pass --arrivals",
                                  field="arrivals")
    sla_s = {p: rules.sla(p).total_seconds() for p in Priority}
    cal = rules.calendar if args.hours == "desk" else ALWAYS_OPEN
    result = sim.compare(arrivals, observed, sla_s=sla_s, policies=policies, reps=args.reps, seed=args.seed, cal=cal)
    result["hours"] = args.hours
    if args.json:
        emit_json(result)
        return 0
    print(render(result))
    return 0



def render(result: dict) -> str:
    pols = list(result["policies"])
    head = ["class", "n"]
    for label in ("SLA met", "p90 wait"):
        head += [f"{label} {p}" for p in pols]
    rows = []
    for cls in [p.value for p in Priority] + ["all"]:
        stats = {p: (result["policies"][p]["by_class"].get(cls) if cls != "all" else result["policies"][p]["all"])
                 for p in pols}
        n = stats[pols[0]]["n"]
        if not n:
            continue
        rows.append([cls, n, *[pct_text(stats[p]["sla_met_pct"]) for p in pols],
                     *[duration_text(stats[p]["p90_wait_s"]) for p in pols]])
    rows.append(["revenue-weighted wait", "", *["" for _ in pols],
                 *[duration_text(result["policies"][p]["revenue_weighted_wait_s"]) for p in pols]])
    span = duration_text(result["span_s"]) + (" of open desk time" if result.get("hours") == "desk" else "")
    src = (f"{result['arrivals']} arrivals over {span}, {result['reps']} reps"
           f"{' (auto: ~85% utilisation)' if result['reps_auto'] else ''}, mean service "
           f"{duration_text(result['mean_service_s'])}, utilisation {pct_text(result['utilisation_pct'])}, seed {result['seed']}")
    out = src + "\n\n" + table(rows, head)
    if set(pols) == {"fcfs", "triage"}:
        out += "\n\n" + verdict(result)
    return out


def verdict(result: dict) -> str:
    """What triage buys over first come, first served, in one line per class that changed."""
    f, t = result["policies"]["fcfs"], result["policies"]["triage"]
    parts = []
    for cls in [p.value for p in Priority]:
        a, b = f["by_class"][cls], t["by_class"][cls]
        if not a["n"] or (a["sla_met_pct"] == b["sla_met_pct"] and a["p90_wait_s"] == b["p90_wait_s"]):
            continue
        parts.append(f"{cls} SLA met {pct_text(a['sla_met_pct'])} → {pct_text(b['sla_met_pct'])}, "
                     f"p90 wait {duration_text(a['p90_wait_s'])} → {duration_text(b['p90_wait_s'])}")
    parts.append(f"revenue-weighted wait {duration_text(f['revenue_weighted_wait_s'])} → "
                 f"{duration_text(t['revenue_weighted_wait_s'])}")
    return "what triage buys over fcfs:\n" + "\n".join(f"  {x}" for x in parts)
