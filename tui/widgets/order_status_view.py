"""The top of the order screen: number, state, class, due countdown, customer and credit, channel and
type, who holds the claim, a hold or a queue reason, and what fulfilment is still owed (the backorder).

Its own module so the order screen keeps to its keys; every piece of user text goes in as text (styled).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from textual.content import Content

from core.calendar import Calendar
from core.enums import OrderState
from core.labels import channel_label, hold_label, state_label
from core.models import Order
from core.money import fmt
from core.triage import Slack, due_text, slack
from tui.plain import styled

_SLACK_STYLE = {Slack.OVERDUE: "bold $error", Slack.AT_RISK: "bold $warning", Slack.SOON: "$warning", Slack.OK: "$success"}
_STATE_STYLE = {
    OrderState.IN_PROGRESS: "bold $accent", OrderState.ON_HOLD: "bold $warning", OrderState.RELEASED: "bold $success",
    OrderState.CANCELLED: "bold $error", OrderState.QUEUED: "bold", OrderState.BACKORDERED: "bold $warning",
}


def backorder_text(o: Order) -> tuple[str, str]:
    """What a released or part-shipped order still owes, as (label, detail): its backorder line by
    line, or what is in hand and ready to ship. ("", "") when nothing is owed to fulfilment."""
    if o.state not in (OrderState.RELEASED, OrderState.BACKORDERED):
        return "", ""
    waiting = [f"line {ln.line_no} {ln.sku} ×{ln.qty_backordered}" for ln in o.lines if ln.qty_backordered]
    ready = sum(ln.qty_allocated - ln.qty_shipped for ln in o.lines)
    in_hand = f"{ready} unit{'s' if ready != 1 else ''} in hand, ready to ship"
    if waiting:
        return "BACKORDER", "waiting for stock: " + ", ".join(waiting) + (f" · {in_hand}" if ready else "")
    return ("READY TO SHIP", in_hand) if ready else ("", "")


def status_header(o: Order, *, now: datetime, cal: Calendar, at_risk: timedelta, me: str, mine: bool) -> Content:
    """The status lines above the order header's addresses; `mine` is whether this session holds the claim."""
    due_at = o.effective_due(now, cal)
    sl = slack(due_at, now, at_risk, cal)
    state = state_label(o.state)
    due = f"[{_SLACK_STYLE[sl]}]{'SLA' if o.sla_paused else 'due'} $due_in[/] ($due_at UTC)"
    if not o.state.open:
        due = "due was $due_was UTC"
    lines = [
        f"[b]$number[/]   [{_STATE_STYLE.get(o.state, 'bold')}]$state[/]   [b]$klass[/]   {due}",
        "Customer [b]$code[/] $name ([b]$tier[/])   credit $credit · balance $balance",
        "Channel [b]$channel[/]   Type [b]$type[/]   Class $klass: $source",
    ]
    if o.claimed_by is None:
        who = "Not claimed" + ("   (c claims it)" if o.state == OrderState.QUEUED else "")
    elif o.claimed_by == me:
        who = "Claimed by [b]you[/]" if mine else "Claimed by you [b $warning]in another session[/] (c takes it over)"
        if o.lease_expires_at and o.lease_expires_at < now:
            who += " · [b $error]lease lapsed at $lease UTC[/]: claim it again (c)"
        elif o.lease_expires_at:
            who += " · lease until $lease UTC"
    else:
        who = "Claimed by [b $warning]$claimed_by[/]"
    lines.append(who)
    if o.hold_reason:
        lines.append("[b $warning]ON HOLD ($hold)[/]: $hold_note")
    if o.queue_reason:
        lines.append("Queued for a rep: $queue_reason")
    owed_head, owed = backorder_text(o)
    if owed_head:
        lines.append("[b $warning]$owed_head[/] $owed")
    return styled(
        "\n".join(lines), number=o.number, state=state, klass=o.priority.value, due_in=due_text(due_at, now, o.sla_paused, cal),
        due_at=f"{due_at:%Y-%m-%d %H:%M}", due_was=f"{o.due_at:%Y-%m-%d %H:%M}", code=o.customer.code,
        name=o.customer.name, tier=o.customer.tier.value.replace("_", " "), credit=fmt(o.customer.credit_limit),
        balance=fmt(o.customer.open_balance), channel=channel_label(o.channel), type=o.type, source=o.priority_source,
        lease=f"{o.lease_expires_at:%H:%M:%S}" if o.lease_expires_at else "", claimed_by=o.claimed_by,
        hold=hold_label(o.hold_reason) if o.hold_reason else "", hold_note=o.hold_note, queue_reason=o.queue_reason,
        owed_head=owed_head, owed=owed)
