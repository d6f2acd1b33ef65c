"""`orderq return …`: returns (RMA) from request to refund, scriptable."""
from __future__ import annotations

import argparse

from core.enums import Disposition, Grade, Resolution, ReturnReason, ReturnState
from core.errors import ValidationError
from db.service.returns import ReturnLineInput
from cli.common import USER_HELP, bounded_int, emit_json, emit_lines, item_actions, operator_desk, table, user_desk

UNOPENED = {"unopened", "sealed"}


def parse_return_line(text: str) -> ReturnLineInput:
    """SKU:QTY:REASON or ORDER:SKU:QTY:REASON, optionally ending in :unopened."""
    parts = [p.strip() for p in text.split(":")]
    opened = True
    if parts and parts[-1].lower() in UNOPENED:
        opened = False
        parts = parts[:-1]
    if len(parts) == 3 and parts[1].lstrip("+-").isdigit():
        return ReturnLineInput(sku=parts[0], qty=parts[1], reason=parts[2], opened=opened)
    if len(parts) == 4 and parts[2].lstrip("+-").isdigit():
        return ReturnLineInput(order=parts[0], sku=parts[1], qty=parts[2], reason=parts[3], opened=opened)
    raise ValidationError(f"--line {text!r}: use SKU:QTY:REASON or ORDER:SKU:QTY:REASON (optionally :unopened)",
                          field="line")


def _pairs(values: list[str], what: str, n: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values:
        ref, *rest = v.rsplit(":", n)
        if len(rest) != n or not ref:
            raise ValidationError(f"--line {v!r}: use {what}", field="line")
        out[ref] = rest
    return out


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    ret = sub.add_parser("return", help="returns (RMA): request, authorize, receive, inspect, resolve",
                         parents=[parent])
    rsub = ret.add_subparsers(dest="return_cmd", required=True, parser_class=type(ret))

    new = rsub.add_parser("new", help="open a return against shipped orders", parents=[parent])
    new.add_argument("--user", help=USER_HELP)
    new.add_argument("--order", action="append", default=[], help="a shipped order (repeat for several)")
    new.add_argument("--line", action="append", default=[], metavar="[ORDER:]SKU:QTY:REASON[:unopened]",
                     help="a returned line, repeat for several; REASON: " + ", ".join(r.value for r in ReturnReason))
    new.add_argument("--resolution", required=True,
                     help="what the customer gets: " + ", ".join(r.value for r in Resolution))
    new.add_argument("--note", help="a note for the returns clerk")
    new.add_argument("--json", action="store_true", help="the return as one JSON line")
    new.set_defaults(func=cmd_new)

    action = item_actions(rsub, parent)

    token = ("--token", {"help": "the claim token, if you hold a claim on the return"})
    action("authorize", "authorize a requested return", cmd_authorize, token)
    action("approve", "supervisor: approve a return waiting for approval", cmd_approve, ("--note", {"help": "a note, kept with the event"}))
    action("reject", "reject a requested return (with a reason)", cmd_reject,
           ("--reason", {"required": True, "help": "why (free text, told to the customer)"}), token)
    action("receive", "record the goods received (lines not named arrived in full)", cmd_receive,
           ("--line", {"action": "append", "default": [], "metavar": "REF:QTY", "help": "a line received short"}), token)
    action("inspect", "grade and dispose each received line", cmd_inspect,
           ("--line", {"action": "append", "default": [], "metavar": "REF:GRADE:DISPOSITION",
                       "help": f"GRADE: {', '.join(g.value for g in Grade)}; DISPOSITION: "
                               f"{', '.join(d.value for d in Disposition)}"}),
           ("--all", {"metavar": "GRADE:DISPOSITION", "help": "for every line not named"}), token)
    action("resolve", "pay the refund or credit the policy computes (or open the exchange)", cmd_resolve, token)
    action("close", "close a resolved return", cmd_close)
    action("unclaim", "give a claim on a return back", cmd_unclaim, token)
    action("show", "one return in full", cmd_show, ("--history", {"action": "store_true", "help": "with its events"}),
           ("--explain", {"action": "store_true", "help": "the refund computation, line by line"}))

    lst = rsub.add_parser("list", help="returns in queue order (lines)", parents=[parent])
    lst.add_argument("--state", action="append", default=[], choices=[st.value for st in ReturnState],
                     help="only this state (repeatable)")
    lst.add_argument("--open", action="store_true", help="only returns still being worked")
    lst.add_argument("--mine", action="store_true", help="only returns you hold")
    lst.add_argument("--search", help="only rows matching this text")
    lst.add_argument("--limit", type=bounded_int(0, 10**9), default=100000, help="at most this many rows")
    lst.add_argument("--user", help=USER_HELP)
    lst.add_argument("--json", action="store_true", help="one JSON line per return")
    lst.set_defaults(func=cmd_list)

    bulk = rsub.add_parser("bulk", help="approve, receive (in full) or resolve several returns", parents=[parent])
    bulk.add_argument("action", choices=["approve", "receive", "resolve", "authorize", "close"], help="what to do to each")
    bulk.add_argument("numbers", nargs="+", help="return numbers (RMA-000045 …)")
    bulk.add_argument("--user", help=USER_HELP)
    bulk.add_argument("--json", action="store_true", help="one JSON line per return")
    bulk.set_defaults(func=cmd_bulk)


def _print(args: argparse.Namespace, d: dict, what: str) -> int:
    if args.json:
        emit_json(d)
    else:
        print(f"{d['number']}: {what} ({d['state']}, refund {d['refund_amount']}"
              f"{'' if d['refund_final'] else ' estimated'})")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    lines = [parse_return_line(t) for t in args.line]
    desk = user_desk(args)
    d = desk.returns.new(lines=lines, resolution=args.resolution, orders=args.order, note=args.note)
    if args.json:
        emit_json(d)
    else:
        extra = f" — waits for a supervisor: {d['needs_approval']}" if d["state"] == "pending_approval" else ""
        print(f"{d['number']}: {d['state']} {d['priority']} against {', '.join(d['orders'])}, "
              f"estimated {d['resolution'].replace('_', ' ')} {d['refund_amount']}{extra}")
    return 0


def cmd_authorize(args: argparse.Namespace) -> int:
    return _print(args, user_desk(args).returns.authorize(args.number, token=args.token), "authorized")


def cmd_approve(args: argparse.Namespace) -> int:
    return _print(args, user_desk(args).returns.approve(args.number, args.note), "approved")


def cmd_reject(args: argparse.Namespace) -> int:
    return _print(args, user_desk(args).returns.reject(args.number, args.reason, token=args.token), "rejected")


def cmd_receive(args: argparse.Namespace) -> int:
    got = {ref: v[0] for ref, v in _pairs(args.line, "REF:QTY (REF: SKU, ORDER/SKU or #N)", 1).items()}
    d = user_desk(args).returns.receive(args.number, got, token=args.token)
    if not args.json:
        for ln in d["lines"]:
            if ln["qty_received"] < ln["qty"]:
                print(f"short receipt: {ln['order']}/{ln['sku']} {ln['qty_received']} of {ln['qty']}")
    return _print(args, d, "received")


def cmd_inspect(args: argparse.Namespace) -> int:
    results = {ref: (v[0], v[1]) for ref, v in _pairs(args.line, "REF:GRADE:DISPOSITION", 2).items()}
    default = None
    if args.all:
        g, _, disp = args.all.partition(":")
        if not disp:
            raise ValidationError("--all: use GRADE:DISPOSITION", field="all")
        default = (g, disp)
    d = user_desk(args).returns.inspect(args.number, results, default=default, token=args.token)
    return _print(args, d, "inspected")


def cmd_resolve(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    d = desk.returns.resolve(args.number, token=args.token)
    if not args.json:
        for line in desk.returns.history(d["number"])[-1].data.get("explanation", []):
            print(f"  {line}")
        if d["exchange_order"]:
            print(f"replacement order {d['exchange_order']} queued")
    return _print(args, d, "resolved")


def cmd_close(args: argparse.Namespace) -> int:
    return _print(args, user_desk(args).returns.close(args.number), "closed")


def cmd_unclaim(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    desk.returns.unclaim(args.number, args.token)
    return _print(args, desk.returns.detail(args.number), "given back to the queue")


def cmd_show(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    d = desk.returns.detail(args.number)
    if args.explain:
        d["explain"] = desk.returns.explain(args.number)
    if args.json:
        if args.history:
            d["history"] = [e.model_dump(mode="json") for e in desk.returns.history(d["number"])]
        emit_json(d)
        return 0
    print(f"{d['number']}  {d['state']}  {d['priority']}  {d['resolution']}  due {d['due_at']}")
    print(f"customer {d['customer']} {d['customer_name']} ({d['tier']})  orders {', '.join(d['orders'])}  "
          f"requested by {d['requested_by']}")
    if d["needs_approval"]:
        print(f"needs approval: {d['needs_approval']}" + (f" (approved by {d['approved_by']})" if d["approved_by"] else ""))
    if d["rejected_reason"]:
        print(f"rejected: {d['rejected_reason']}")
    print(table([[ln["line"], ln["order"], ln["sku"], ln["qty"], ln["reason"],
                  "" if ln["qty_received"] is None else ln["qty_received"], ln["grade"] or "",
                  ln["disposition"] or "", ln["refund"] or ""] for ln in d["lines"]],
                ["#", "order", "sku", "qty", "reason", "received", "grade", "disposition", "refund"]))
    print(f"refund {d['refund_amount']}{'' if d['refund_final'] else ' (estimate)'}  fee {d['fee']}  "
          f"shipping {d['shipping_refund']}" + (f"  exchange {d['exchange_order']}" if d["exchange_order"] else ""))
    if args.explain:
        for line in d["explain"]["explanation"]:
            print(f"  {line}")
    if args.history:
        for e in desk.returns.history(d["number"]):
            print(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<10} {e.action}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from db.service.returns import OPEN_STATES

    desk = operator_desk(args)
    states = tuple(args.state) or (OPEN_STATES if args.open else ())
    rows = desk.returns.list(states=states, mine=args.mine, search=args.search, limit=args.limit)
    if args.json:
        emit_lines(rows)
        return 0
    print(table([[r["priority"], r["number"], r["state"], r["customer"], ",".join(r["orders"]),
                  ",".join(r["reasons"]), r["refund_amount"], r["claimed_by"] or ""] for r in rows],
                ["cls", "number", "state", "customer", "orders", "reasons", "refund", "claimed by"]))
    print(f"{len(rows)} returns")
    return 0


def cmd_bulk(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    results = desk.returns.bulk(args.action, args.numbers)
    if args.json:
        emit_lines({"number": r.number, "ok": r.ok, "message": r.message} for r in results)
    else:
        for r in results:
            print(f"{r.number}: {'ok' if r.ok else 'REFUSED'} {r.message}")
    return 0 if all(r.ok for r in results) else 2
