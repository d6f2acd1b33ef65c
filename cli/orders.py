"""`orderq order …`, `orderq claim` and the order actions."""
from __future__ import annotations

import argparse
import sys

from core.addresses import address_line, place
from core.delivery import HISTORY_ACTION as DELIVERY_EVENT, describe as delivery_words
from core.errors import ValidationError
from core.labels import channel_label, hold_label, state_label
from core.shipping import parse_ship_line
from core.triage import due_cell, due_text
from core.enums import Channel, HoldReason, OrderState, Priority
from core.when import DUE_AHEAD, parse_when
from db.order_records import order_json
from db.orders_read import QueueFilter, count, iter_all, summary_json
from db.service.order_header import HeaderInput
from db.service.orders import LineInput
from cli.common import USER_HELP, bounded_int, emit_json, emit_lines, item_actions, operator_desk, table, user_desk


def parse_line(text: str) -> LineInput:
    """SKU:QTY[:DISCOUNT%] as typed on the command line."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ValidationError(f"--line {text!r}: use SKU:QTY or SKU:QTY:DISCOUNT", field="line")
    return LineInput(sku=parts[0], qty=parts[1], discount_pct=parts[2] if len(parts) == 3 else "0")


#: the most orders one `claim --count` takes: a rep works one or two at a time, a batch at most this
MAX_CLAIM_COUNT = 100
_STATES = [st.value for st in OrderState]
_CHANNELS = [ch.value for ch in Channel]
_HOLDS = [h.value for h in HoldReason]
_TYPES_HELP = "request type, from the rules file (default rules: rush, change, custom, standard, backorder, quote)"


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    order = sub.add_parser("order", help="enter and look up orders", parents=[parent])
    osub = order.add_subparsers(dest="order_cmd", required=True, parser_class=type(order))
    new = osub.add_parser("new", help="enter an order", parents=[parent])
    new.add_argument("--user", help=USER_HELP)
    new.add_argument("--customer", required=True,
                     help="customer code (C00012), its number (12), or a unique part of its name")
    new.add_argument("--channel", default="phone", help="how it arrived: " + ", ".join(_CHANNELS) + " (default phone)")
    new.add_argument("--type", default="standard", help=_TYPES_HELP + "; default standard")
    new.add_argument("--line", action="append", default=[], metavar="SKU:QTY[:DISC]",
                     help="an order line, repeat for several; DISC is a discount in percent")
    new.add_argument("--received-at", metavar="TIME",
                     help="when it arrived (default now): ISO, 'today', or -2h; 1970 … one day ahead")
    new.add_argument("--note", help="a note for the rep")
    header_flags(new)
    new.add_argument("--json", action="store_true", help="the order as one JSON line")
    new.set_defaults(func=cmd_new)
    head = osub.add_parser("header", help="change an order's header: ship-to, PO, date, method, note", parents=[parent])
    head.add_argument("number", help="order number")
    head.add_argument("--user", help=USER_HELP)
    head.add_argument("--token", help="the claim token from `orderq claim`")
    head.add_argument("--note", help="the order's note")
    header_flags(head)
    head.add_argument("--json", action="store_true", help="the order as one JSON line")
    head.set_defaults(func=cmd_header)
    show = osub.add_parser("show", help="one order in full", parents=[parent])
    show.add_argument("number", help="order number, e.g. SO-000123")
    show.add_argument("--user", help=USER_HELP)
    show.add_argument("--json", action="store_true", help="the order as one JSON line")
    show.add_argument("--history", action="store_true", help="with its events")
    show.set_defaults(func=cmd_show)
    from cli import papers

    papers.register(osub, parent)
    lst = osub.add_parser("list", help="orders in queue order", parents=[parent])
    lst.add_argument("--state", action="append", default=[], choices=_STATES, help="only this state (repeatable)")
    lst.add_argument("--priority", action="append", default=[], type=str.upper, choices=[p.value for p in Priority],
                     help="only this class (repeatable)")
    lst.add_argument("--channel", action="append", default=[], choices=_CHANNELS, help="only this channel (repeatable)")
    lst.add_argument("--mine", action="store_true", help="only orders you hold")
    lst.add_argument("--search", help="only rows matching this text")
    lst.add_argument("--limit", type=bounded_int(0, 10**9), help="at most this many rows")
    lst.add_argument("--user", help=USER_HELP)
    lst.add_argument("--json", action="store_true", help="one JSON line per order")
    lst.set_defaults(func=cmd_list)

    claim = sub.add_parser("claim", help="claim the next items of a queue", parents=[parent])
    claim.add_argument("--user", help=USER_HELP)
    claim.add_argument("--queue", choices=["orders", "returns"], default="orders", help="which queue (default orders)")
    claim.add_argument("--count", type=bounded_int(1, MAX_CLAIM_COUNT), default=1,
                       help=f"how many to claim, 1 … {MAX_CLAIM_COUNT} (default 1)")
    claim.add_argument("--number", help="claim this item instead of the next")
    claim.add_argument("--take-over", action="store_true",
                       help="with --number: an item you hold in another session moves to this one "
                            "(a new token; the old token stops working)")
    claim.add_argument("--json", action="store_true", help="one JSON line per claim")
    claim.set_defaults(func=cmd_claim)

    action = item_actions(sub, parent)

    token = ("--token", {"help": "the claim token from `orderq claim`"})
    note = ("--note", {"help": "a note, kept with the event"})
    action("hold", "put an order on hold", cmd_hold,
           ("--reason", {"required": True, "help": "why it waits: " + ", ".join(_HOLDS)}), note, token)
    action("unhold", "take an order off hold (needs a note)", cmd_unhold,
           ("--note", {"required": True, "help": "what changed (required)"}))
    action("release", "release a worked order to fulfilment", cmd_release, token)
    action("cancel", "cancel an order", cmd_cancel, ("--reason", {"required": True, "help": "why (free text)"}), token)
    action("ship", "ship a released order, whole or in part (the rest stays on backorder)", cmd_ship,
           ("--line", {"action": "append", "default": [], "metavar": "LINE_NO:QTY",
                       "help": "ship QTY units of line LINE_NO (repeatable); without it the whole rest ships"}))
    action("close", "close a shipped order", cmd_close)
    action("tick", "tick a checklist step", cmd_tick, ("step", {"help": "the step's text, as `order show` lists it"}), token)
    action("untick", "take back a checklist tick", cmd_untick, ("step", {"help": "the step's text"}), token)
    action("unclaim", "give a claim back unfinished", cmd_unclaim, token)
    action("renew", "renew a claim's lease", cmd_renew, token)
    action("override", "supervisor: override class or due time", cmd_override,
           ("--reason", {"required": True, "help": "why (shown in the queue)"}),
           ("--priority", {"type": str.upper, "choices": [p.value for p in Priority], "help": "the new class"}),
           ("--due", {"metavar": "TIME", "help": "the new due time: ISO, or +30m / -2h; 1970 … 366 days ahead"}))
    action("reassign", "supervisor: give an order to another rep", cmd_reassign,
           ("--to", {"required": True, "help": "the rep who takes it"}), ("--reason", {"help": "why"}),
           ("--expect-version", {"type": int, "metavar": "N",
                                 "help": "refuse if the order's version (order show --json) "
                                         "is no longer N: someone changed it meanwhile"}))
    action("force-release", "supervisor: end someone's claim", cmd_force_release,
           ("--reason", {"required": True, "help": "why"}))


def header_flags(p: argparse.ArgumentParser) -> None:
    """The order header's flags, shared by `order new` and `order header`."""
    from cli.customers import address_flags

    p.add_argument("--ship-to", type=int, metavar="ID",
                   help="ship to this address of the customer (`customers show` lists them; default: its default)")
    address_flags(p, "ship-", "a one-off ship-to for this order only")
    p.add_argument("--bill-to", type=int, metavar="ID", help="bill to this address (default: the default bill-to)")
    p.add_argument("--contact", type=int, metavar="ID", help="the customer's contact for this order (default: the first)")
    p.add_argument("--po", metavar="PO", help="the customer's PO number (at most 35 characters)")
    p.add_argument("--duplicate-po-ok", action="store_true",
                   help="enter it although the customer sent this PO number before (a new order, not a re-send)")
    p.add_argument("--requested-date", metavar="YYYY-MM-DD", help="requested delivery date (today or later)")
    p.add_argument("--ship-method", help="shipping method, from the rules (default: the first listed)")


def header_input(args: argparse.Namespace) -> HeaderInput:
    from cli.customers import address_fields

    one_off = address_fields(args, "ship-")
    return HeaderInput(ship_to=args.ship_to, ship_to_address=one_off if any(one_off.values()) else None,
                       bill_to=args.bill_to, contact=args.contact, po_number=args.po,
                       requested_date=args.requested_date, ship_method=args.ship_method, note=args.note,
                       duplicate_po_ok=args.duplicate_po_ok)


def _done(args: argparse.Namespace, desk, number: str, what: str) -> int:  # noqa: ANN001
    if args.json:
        emit_json(order_json(desk.orders.get(number), desk.now(), desk.store.calendar))
    else:
        print(f"{number}: {what}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    lines = [parse_line(t) for t in args.line]
    received = parse_when(args.received_at, desk.now(), field="--received-at") if args.received_at else None
    o = desk.orders.create(customer=args.customer, channel=args.channel, type=args.type, lines=lines,
                           received_at=received, header=header_input(args))
    if args.json:
        emit_json(order_json(o, desk.now(), desk.store.calendar))
    else:
        extra = f" ({hold_label(o.hold_reason)} hold: {o.hold_note})" if o.hold_reason else ""
        if o.queue_reason:
            extra += f" (queued for a rep: {o.queue_reason})"
        print(f"{o.number}: {state_label(o.state)} {o.priority.value} total {o.total} due {o.due_at:%Y-%m-%d %H:%M}Z{extra}")
    return 0


def cmd_header(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.set_header(args.number, header_input(args), token=args.token)
    return _done(args, desk, args.number, "header changed")


def cmd_show(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    o = desk.orders.get(args.number)
    if args.json:
        data = order_json(o, desk.now(), desk.store.calendar)
        if args.history:
            data["history"] = [e.model_dump(mode="json") for e in desk.orders.history(o.number)]
        emit_json(data)
        return 0
    now = desk.now()
    # an order no longer open owes nothing: when it was due, as the order screen says, not a countdown
    cal = desk.store.calendar
    due = due_text(o.effective_due(now, cal), now, o.sla_paused, cal) if o.state.open else f"was {o.due_at:%Y-%m-%d %H:%M} UTC"
    print(f"{o.number}  {state_label(o.state)}  {o.priority.value}  due {due}")
    where = place(o.customer.city, o.customer.country)
    print(f"customer {o.customer.code} {o.customer.name}" + (f", {where}" if where else "")
          + f" ({o.customer.tier.value})  channel {channel_label(o.channel)}  type {o.type}")
    print_header(o)
    if o.claimed_by:
        print(f"claimed by {o.claimed_by}")
    if o.hold_reason:
        print(f"on hold: {hold_label(o.hold_reason)}: {o.hold_note or ''}")
    print(table([[ln.line_no, ln.sku, ln.description, ln.qty, ln.unit_price, ln.discount_pct, ln.amount, ln.qty_shipped]
                 for ln in o.lines], ["#", "sku", "description", "qty", "price", "disc%", "amount", "shipped"]))
    owed = [f"line {ln.line_no} {ln.qty_backordered}" for ln in o.lines if ln.qty_backordered]
    if owed and o.state in (OrderState.RELEASED, OrderState.BACKORDERED):
        print("backorder (waiting for stock): " + ", ".join(owed))
    for ch in o.charges:
        print(f"charge {ch.code}: {ch.amount}")
    print(f"total {o.total}")
    for step in o.checklist:
        who = o.ticked.get(step)
        print(f"[{'x' if who else ' '}] {step}" + (f"  ({who})" if who else ""))
    if args.history:
        for e in desk.orders.history(o.number):
            words = f"  {delivery_words(e.data)}" if e.action == DELIVERY_EVENT else ""
            print(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<10} {e.action}{words}")
    return 0


def print_header(o) -> None:  # noqa: ANN001 - an Order

    print(f"ship to  {address_line(o.ship_to) or '(none)'}")
    if o.bill_to:
        print(f"bill to  {address_line(o.bill_to)}")
    if o.contact:
        print("contact  " + "  ".join(x for x in (o.contact.get("name"), o.contact.get("email"), o.contact.get("phone")) if x))
    print(f"PO {o.po_number or '(none)'}  requested {o.requested_date or '(no date)'}  ship by {o.ship_method or '-'}")
    if o.note:
        print(f"note: {o.note}")


def cmd_list(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    f = QueueFilter(states=tuple(args.state), priorities=tuple(p.upper() for p in args.priority),
                    channels=tuple(args.channel), claimed_by=desk.actor.name if args.mine else None, search=args.search)
    desk.orders.list(f, 0, 1)  # permission check
    conn = desk.store.conn
    rows = iter_all(conn, f)
    if args.limit is not None:
        rows = (r for i, r in zip(range(args.limit), rows))
    if args.json:
        emit_lines(summary_json(r) for r in rows)
        return 0
    now, cal = desk.now(), desk.store.calendar
    out = [[r["priority"], r["number"], r["customer_code"], channel_label(r["channel"]), r["type"], state_label(r["state"]),
            due_cell(r, now, cal)[1], r["claimed_by"] or ""] for r in rows]
    print(table(out, ["cls", "number", "customer", "channel", "type", "state", "due", "claimed by"]))
    print(f"{count(conn, f)} orders")
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    service = desk.orders if args.queue == "orders" else desk.returns  # type: ignore[attr-defined]

    def show(item) -> None:  # noqa: ANN001 - a Claimed; printed (and flushed) as soon as it is taken
        if args.json:
            emit_json(item.as_json())
        else:
            print(f"{item.number}  {item.priority}  due {item.due_at:%Y-%m-%d %H:%M}Z  token {item.claim_token}")
        sys.stdout.flush()

    if args.take_over and not args.number:
        raise ValidationError("--take-over needs --number (the item you hold in another session)", field="take_over")
    if args.number:
        show(service.take_over(args.number) if args.take_over else service.claim(args.number))
        return 0
    for _ in range(args.count):
        item = service.claim_next()
        if item is None:
            break
        show(item)
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.hold(args.number, args.reason, args.note, token=args.token)
    return _done(args, desk, args.number, f"on hold ({args.reason})")


def cmd_unhold(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.unhold(args.number, args.note)
    return _done(args, desk, args.number, "back in the queue")


def cmd_release(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.release(args.number, token=args.token)
    return _done(args, desk, args.number, "released to fulfilment")


def cmd_cancel(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.cancel(args.number, args.reason, token=args.token)
    return _done(args, desk, args.number, "cancelled")


def cmd_ship(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    lines: dict[int, int] = {}
    for text in args.line:
        no, qty = parse_ship_line(text)
        if no in lines:
            raise ValidationError(f"--line {text!r}: line {no} is given twice", field="line")
        lines[no] = qty
    desk.orders.ship(args.number, lines or None)
    o = desk.orders.get(args.number)
    if o.state == OrderState.BACKORDERED:
        owed = [f"line {ln.line_no} {ln.qty - ln.qty_shipped}" for ln in o.lines if ln.qty > ln.qty_shipped]
        return _done(args, desk, args.number, "shipped in part; backordered: " + ", ".join(owed))
    return _done(args, desk, args.number, "shipped")


def cmd_close(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.close(args.number)
    return _done(args, desk, args.number, "closed")


def cmd_tick(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.tick(args.number, args.step, token=args.token)
    return _done(args, desk, args.number, f"ticked {args.step!r}")


def cmd_untick(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.untick(args.number, args.step, token=args.token)
    return _done(args, desk, args.number, f"unticked {args.step!r}")


def cmd_unclaim(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.unclaim(args.number, args.token)
    return _done(args, desk, args.number, "given back to the queue")


def cmd_renew(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    until = desk.orders.renew(args.number, args.token or "")
    return _done(args, desk, args.number, f"lease renewed until {until:%H:%M:%S}Z")


def cmd_override(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    due = parse_when(args.due, desk.now(), field="--due", ahead=DUE_AHEAD) if args.due else None
    desk.orders.override(args.number, reason=args.reason, priority=args.priority, due_at=due)
    return _done(args, desk, args.number, "overridden")


def cmd_reassign(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    got = desk.orders.reassign(args.number, args.to, args.reason, expected_version=args.expect_version)
    if args.json:
        emit_json(got.as_json())
    else:
        print(f"{args.number}: now claimed by {args.to}")
    return 0


def cmd_force_release(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.orders.force_release(args.number, args.reason)
    return _done(args, desk, args.number, "claim force-released")
