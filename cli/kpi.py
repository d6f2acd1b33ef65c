"""`orderq kpi [--since T] [--until T] [--json] [--breakdown] [--html FILE]`: the KPIs of SPEC §2."""
from __future__ import annotations

import argparse
import html
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core.errors import ValidationError
from core.kpi import CHART_MAX_HOURS, MAX_WINDOW, Window, duration_text, pct_text, today
from core.when import parse_when
from db import outputs
from db.service.kpi import local_zone
from cli.common import USER_HELP, emit_json, operator_desk, table


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("kpi", help="KPIs: queue, SLA, cycle time, touchless, returns", parents=[parent])
    p.add_argument("--since", metavar="TIME",
                   help="window start (default: today 00:00 local); ISO, 'today', 'yesterday', -2h; not in the future")
    p.add_argument("--until", metavar="TIME", help="window end, exclusive (default: end of today, or now with --since); "
                                                   f"the window is at most {MAX_WINDOW.days} days")
    p.add_argument("--user", help=USER_HELP)
    p.add_argument("--json", action="store_true", help="exactly the SPEC §2 keys: {orders: …, returns: …}")
    p.add_argument("--breakdown", action="store_true",
                   help="with --json: add a top-level 'breakdown' key (per rep, per hour)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts (instead of the text)")
    p.set_defaults(func=cmd_kpi)


def window_from(args: argparse.Namespace, now: datetime, local: tzinfo) -> Window:
    """No flags: today (local). --since only: since → now. --until only: the 24 h before it.
    Both times lie in the date window (`core.when`); a window starts no later than now (KPIs of a
    future period would all read empty) and is at most `core.kpi.MAX_WINDOW` long."""
    since = parse_when(args.since, now, local, field="--since") if args.since else None
    until = parse_when(args.until, now, local, field="--until") if args.until else None
    if since is None and until is None:
        return today(now, local)
    if since is not None and since > now:
        raise ValidationError(f"--since {args.since!r} is in the future: a KPI window starts at or before now",
                              field="--since")
    if since is None:
        since = until - timedelta(days=1)  # type: ignore[operator]
    if until is None:
        until = max(now, since + timedelta(seconds=1))
    if until <= since:
        raise ValidationError("--until must be after --since", field="--until")
    return Window(since, until)



def _n(v: Any) -> str:
    return "—" if v is None else str(v)


def cmd_kpi(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    try:
        html_out = outputs.guard(args.html, flag="--html", database=desk.store.path, marker=HTML_MARKER,
                                 what="report") if args.html else None
        local = local_zone()
        now = desk.now()
        w = window_from(args, now, local)
        rep = desk.kpi.report(w)
        extra = desk.kpi.breakdown(w, local) if (args.breakdown or not args.json or args.html) else None
    finally:
        desk.store.close()
    if html_out:
        outputs.write_text(html_out, render_html(rep, extra or {}, w, local, now), flag="--html")
    if args.json:
        emit_json({**rep, "breakdown": extra} if args.breakdown else rep)
        return 0
    if args.html:  # the report is in the file; the terminal gets where
        print(f"report for {_window_text(w, local)} written to {args.html}")
        return 0
    print(render_text(rep, extra or {}, w, local))
    return 0


def _window_text(w: Window, local: tzinfo) -> str:
    a, b = w.since.astimezone(local), w.until.astimezone(local)
    return f"{a:%Y-%m-%d %H:%M} → {b:%Y-%m-%d %H:%M} ({a:%Z})"


def render_text(rep: dict, extra: dict, w: Window, local: tzinfo) -> str:
    o, r = rep["orders"], rep["returns"]
    qd = o["queue_depth"]
    rows = [
        ["queue depth", f"{sum(qd.values())}  (" + "  ".join(f"{k} {v}" for k, v in qd.items()) + ")"],
        ["in progress", o["in_progress"]],
        ["on hold", o["on_hold"]],
        ["oldest wait", duration_text(o["oldest_wait_s"])],
        ["SLA breached (open)", o["sla_breached_open"]],
        ["SLA at risk (open)", o["sla_at_risk"]],
        ["released", o["released"]],
        ["cycle time p50 / p90", f"{duration_text(o['cycle_time_p50_s'])} / {duration_text(o['cycle_time_p90_s'])}"
                                 "  (touchless ones included, at 0s)"],
        ["  handled by a rep", f"{duration_text(o['cycle_time_rep_p50_s'])} / {duration_text(o['cycle_time_rep_p90_s'])}"],
        ["SLA met", pct_text(o["sla_met_pct"])],
        ["touchless", pct_text(o["touchless_pct"])],
        ["electronic share", pct_text(o["electronic_share_pct"])],
        ["hold rate", pct_text(o["hold_rate_pct"])],
        ["cancellation rate", pct_text(o["cancel_rate_pct"])],
    ]
    out = [f"KPIs for {_window_text(w, local)}", "", table([[a, str(b)] for a, b in rows], ["orders", ""])]
    rrows = [
        ["open", r["open"]],
        ["pending approval", r["pending_approval"]],
        ["return rate", pct_text(r["return_rate_pct"])],
        ["cycle time p50", duration_text(r["cycle_time_p50_s"])],
        ["refund time p50", duration_text(r["refund_time_p50_s"])],
        ["by reason", ", ".join(f"{k} {v}" for k, v in r["by_reason"].items()) or "—"],
        ["by disposition", ", ".join(f"{k} {v}" for k, v in r["by_disposition"].items()) or "—"],
    ]
    out += ["", table([[a, str(b)] for a, b in rrows], ["returns", ""])]
    if extra.get("by_rep") is not None:
        reps = [[x["rep"], x["released"], duration_text(x["avg_handling_s"]), x["claims"],
                 " ".join(x["holding"][:4]) + (" …" if len(x["holding"]) > 4 else "")] for x in extra["by_rep"]]
        out += ["", table(reps, ["rep", "released", "avg handling", "claims", "holding"]) if reps else "no rep activity"]
        out.append(f"straight-through releases (no rep): {extra.get('straight_through', 0)}")
    if len(extra.get("by_hour") or ()) > CHART_MAX_HOURS:
        out += ["", f"released per hour: charted for windows up to {CHART_MAX_HOURS // 24} days "
                    "(`--json --breakdown` lists every hour)"]
    elif extra.get("by_hour"):
        hours = extra["by_hour"]
        peak = max([h["released"] for h in hours] + [1])
        busy = [i for i, h in enumerate(hours) if h["released"]]
        if busy:
            out += ["", "released per hour (avg handling)"]
            for h in hours[busy[0]:busy[-1] + 1]:
                bar = "█" * round(30 * h["released"] / peak)
                out.append(f"  {h['hour'][11:16]}  {bar:<30} {h['released']:>4}  {duration_text(h['avg_handling_s'])}")
    return "\n".join(out)


# ---- the mailable HTML report ---------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccc}
.sub{color:#555;margin-bottom:16px}.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{border:1px solid #ccc;border-radius:6px;padding:8px 12px;min-width:120px}
.tile b{display:block;font-size:26px}.tile span{color:#555;font-size:12px}.bad b{color:#b00020}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
td.n{text-align:right} svg text{font-family:inherit;font-size:11px}
"""


def _tile(label: str, value: str, bad: bool = False) -> str:
    return f'<div class="tile{" bad" if bad else ""}"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'


#: queue depth bars coloured by class, most urgent warmest: red is for P1, not for every bar
CLASS_COLORS = {"P1": "#b00020", "P2": "#e65100", "P3": "#1f5fa8", "P4": "#607d8b"}


def svg_bars(items: list[tuple[str, float]], *, width: int = 640, bar_h: int = 18, color: str = "#1f5fa8",
             colors: dict[str, str] | None = None) -> str:
    """Horizontal bars, one per item, labelled; an inline SVG with no external assets. `colors`
    gives some labels their own colour (the rest take `color`)."""
    if not items:
        return "<p>none</p>"
    peak = max(v for _, v in items) or 1
    label_w, h = 150, bar_h + 6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h * len(items) + 4}" role="img">']
    for i, (label, v) in enumerate(items):
        y = i * h + 2
        bw = (width - label_w - 60) * v / peak
        parts.append(f'<text x="0" y="{y + bar_h - 4}">{html.escape(label)}</text>')
        fill = (colors or {}).get(label, color)
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bw:.1f}" height="{bar_h}" fill="{fill}"/>')
        parts.append(f'<text x="{label_w + bw + 4:.1f}" y="{y + bar_h - 4}">{v:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_columns(items: list[tuple[str, float]], *, width: int = 720, height: int = 160, color: str = "#2e7d32") -> str:
    """Vertical columns (e.g. releases per hour), with every third label shown."""
    if not items:
        return "<p>none</p>"
    peak = max(v for _, v in items) or 1
    n = len(items)
    cw = width / n
    ch = height - 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, v) in enumerate(items):
        bh = ch * v / peak
        x = i * cw
        parts.append(f'<rect x="{x + 1:.1f}" y="{ch - bh + 12:.1f}" width="{max(1.0, cw - 2):.1f}" height="{bh:.1f}" '
                     f'fill="{color}"><title>{html.escape(label)}: {v:g}</title></rect>')
        if v:
            parts.append(f'<text x="{x + cw / 2:.1f}" y="{ch - bh + 10:.1f}" text-anchor="middle">{v:g}</text>')
        if i % 3 == 0:
            parts.append(f'<text x="{x + 1:.1f}" y="{height - 4}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


#: how every report begins: an existing file that begins so is an earlier report, ours to replace
HTML_MARKER = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="orderq kpi">'


def render_html(rep: dict, extra: dict, w: Window, local: tzinfo, now: datetime) -> str:
    """The report as one HTML page. The hourly chart stops at the hour `now` is in: later hours of
    the window have not happened, and would read as hours with no releases."""
    o, r = rep["orders"], rep["returns"]
    qd = o["queue_depth"]
    tiles = "".join([
        _tile("queued", str(sum(qd.values()))),
        _tile("SLA breached (open)", str(o["sla_breached_open"]), bad=o["sla_breached_open"] > 0),
        _tile("at risk", str(o["sla_at_risk"]), bad=o["sla_at_risk"] > 0),
        _tile("SLA met", pct_text(o["sla_met_pct"])),
        _tile("released", str(o["released"])),
        _tile("cycle time p50", duration_text(o["cycle_time_p50_s"])),
        _tile("cycle time p90", duration_text(o["cycle_time_p90_s"])),
        _tile("rep-handled cycle p50", duration_text(o["cycle_time_rep_p50_s"])),
        _tile("rep-handled cycle p90", duration_text(o["cycle_time_rep_p90_s"])),
        _tile("touchless", pct_text(o["touchless_pct"])),
        _tile("electronic share", pct_text(o["electronic_share_pct"])),
        _tile("hold rate", pct_text(o["hold_rate_pct"])),
        _tile("cancellation rate", pct_text(o["cancel_rate_pct"])),
        _tile("oldest wait", duration_text(o["oldest_wait_s"])),
        _tile("in progress", str(o["in_progress"])),
        _tile("on hold", str(o["on_hold"])),
    ])
    rtiles = "".join([
        _tile("returns open", str(r["open"])),
        _tile("pending approval", str(r["pending_approval"])),
        _tile("return rate", pct_text(r["return_rate_pct"])),
        _tile("return cycle p50", duration_text(r["cycle_time_p50_s"])),
        _tile("refund time p50", duration_text(r["refund_time_p50_s"])),
    ])
    hours = [(h["hour"][11:16], float(h["released"])) for h in extra.get("by_hour") or []
             if datetime.fromisoformat(h["hour"]) <= now]
    hour_chart = (svg_columns(hours) if len(hours) <= CHART_MAX_HOURS
                  else f"<p>charted for windows up to {CHART_MAX_HOURS // 24} days</p>")
    rep_rows = "".join(
        f"<tr><td>{html.escape(x['rep'])}</td><td class=n>{x['released']}</td>"
        f"<td class=n>{duration_text(x['avg_handling_s'])}</td><td class=n>{x['claims']}</td></tr>"
        for x in extra.get("by_rep") or []
    )
    return f"""{HTML_MARKER}<title>orderq report {w.since.astimezone(local):%Y-%m-%d}</title>
<style>{_CSS}</style></head><body>
<h1>Order desk report</h1>
<div class="sub">{html.escape(_window_text(w, local))}</div>
<h2>Orders</h2><div class="tiles">{tiles}</div>
<h2>Queue depth by class</h2>{svg_bars([(k, float(v)) for k, v in qd.items()], colors=CLASS_COLORS)}
<h2>Released per hour</h2>{hour_chart}
<h2>Reps</h2><table><tr><th>rep</th><th>released</th><th>avg handling</th><th>claims now</th></tr>{rep_rows}</table>
<p>Straight-through releases (no rep): {extra.get('straight_through', 0)}</p>
<h2>Returns</h2><div class="tiles">{rtiles}</div>
<h2>Return reasons (units, Pareto)</h2>{svg_bars([(k, float(v)) for k, v in r['by_reason'].items()], color="#6a1b9a")}
<h2>Disposition mix (units)</h2>{svg_bars([(k, float(v)) for k, v in r['by_disposition'].items()], color="#00695c")}
</body></html>
"""
