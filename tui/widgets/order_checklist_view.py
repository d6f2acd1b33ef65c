"""The order screen's right-hand panel: the checklist with who ticked what (and the address under
"confirm ship-to"), and whether `r` would release the order now or why not, in the service's words."""
from __future__ import annotations

from textual.content import Content

from core import orders as machine
from core.errors import DomainError
from core.models import Order
from tui.plain import styled
from tui.widgets.order_header_view import checklist_detail, po_block


def checklist_content(o: Order) -> Content:
    """`[x] n step (who)` or `[ ] n step`, one per line; the number is the key that ticks it."""
    out = []
    for n, step in enumerate(o.checklist, start=1):
        who = o.ticked.get(step)
        if who:
            out.append(styled("[$success]\\[x][/] $n $step  [dim]($who)[/]", n=n, step=step, who=who))
        else:
            out.append(styled("\\[ ] $n $step", n=n, step=step))
        if (detail := checklist_detail(step, o)) is not None:
            out.append(detail)
    if not out:
        out.append(styled("[dim]no checklist for this type[/]"))
    return Content("\n").join(out)


def release_block(o: Order, *, mine: bool) -> str | None:
    """Why `r` would be refused right now, in the service's own words; None when it would go.
    `mine`: this session holds the order's claim."""
    try:
        machine.transition(o.state, "release")
    except DomainError as e:
        return e.message
    if not mine:
        return "claim it first (c)" if o.claimed_by is None else f"claimed by {o.claimed_by}"
    try:
        machine.guard_release(o.checklist, o.ticked, len(o.lines))
    except DomainError as e:
        return e.message
    return po_block(o)
