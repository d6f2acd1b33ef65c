"""`orderq webhooks add/list/remove/log`: partners' outbound webhooks (db/service/webhooks.py).

The worker that sends them is `orderq deliver` (or the one `orderq api` runs); this only manages the
subscriptions and shows what was sent. The secret is read from a file, never from the command line
(where `ps` and the shell's history would show it), and is never printed.
"""
from __future__ import annotations

import argparse

from cli.common import bounded_int, emit_json, operator_desk, table
from core.webhooks import EVENTS
from db.convert import iso
from db.service.partners import read_secret_file


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    top = sub.add_parser("webhooks", help="partners' outbound webhooks: signed events to their URLs", parents=[parent])
    wsub = top.add_subparsers(dest="webhooks_cmd", required=True, parser_class=type(top))

    p = wsub.add_parser("add", parents=[parent], help="tell a partner's URL of events, signed with a shared secret")
    p.add_argument("partner")
    p.add_argument("url", help="http:// or https:// (any host, loopback and LAN included)")
    p.add_argument("--events", required=True, help=f"comma-separated: {','.join(EVENTS)}")
    p.add_argument("--secret-file", required=True, help="a file whose first line is the secret (16+ characters)")
    p.add_argument("--all-orders", action="store_true",
                   help="every order and return (a fulfilment system), not only the partner's own")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user", help="acting admin (default: the operator at the shell)")
    p.set_defaults(func=cmd_add)

    p = wsub.add_parser("list", parents=[parent])
    p.add_argument("--json", action="store_true", help="one JSON line per webhook")
    p.add_argument("--removed", action="store_true", help="removed ones too")
    p.add_argument("--user")
    p.set_defaults(func=cmd_list)

    p = wsub.add_parser("remove", parents=[parent], help="stop a webhook; what it still owed is given up")
    p.add_argument("id", type=bounded_int(1, 2**62))
    p.add_argument("--user")
    p.set_defaults(func=cmd_remove)

    p = wsub.add_parser("log", parents=[parent], help="deliveries to webhooks: tries, status codes, errors")
    p.add_argument("partner", nargs="?")
    p.add_argument("--json", action="store_true", help="one JSON line per delivery, with its last tries")
    p.add_argument("--limit", type=bounded_int(1, 10000), default=200)
    p.add_argument("--user")
    p.set_defaults(func=cmd_log)


def _hook_json(h) -> dict:  # noqa: ANN001 - db.webhooks.Webhook
    return {"id": h.id, "partner": h.partner, "url": h.url, "events": h.events, "scope": h.scope,
            "created_at": iso(h.created_at.timestamp()),
            "removed_at": iso(h.removed_at.timestamp()) if h.removed_at else None}


def cmd_add(args: argparse.Namespace) -> int:
    secret = read_secret_file(args.secret_file)  # before anything is written
    hook = operator_desk(args).webhooks.add(args.partner, args.url, args.events, secret=secret,
                                            all_orders=args.all_orders)
    if args.json:
        emit_json(_hook_json(hook))
    else:
        print(f"webhook {hook.id} added: {hook.partner} → {hook.url} ({', '.join(hook.events)}"
              f"{'; every order' if hook.scope == 'all' else ''})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    hooks = operator_desk(args).webhooks.list(removed=args.removed)
    if args.json:
        for h in hooks:
            emit_json(_hook_json(h))
        return 0
    if not hooks:
        print("no webhooks")
        return 0
    print(table([[h.id, h.partner, h.url, ",".join(h.events), "every order" if h.scope == "all" else "its own",
                  f"removed {h.removed_at:%Y-%m-%d %H:%M}" if h.removed_at else "active"] for h in hooks],
                ["id", "partner", "url", "events", "orders", "state"]))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    given_up = operator_desk(args).webhooks.remove(args.id)
    print(f"webhook {args.id} removed" + (f"; {given_up} undelivered given up" if given_up else ""))
    return 0


def _status(t: dict) -> str:
    return str(t["status"]) if t["status"] is not None else "-"


def cmd_log(args: argparse.Namespace) -> int:
    rows = operator_desk(args).webhooks.log(args.partner, limit=args.limit)
    if args.json:
        for r in rows:
            d = r["delivery"]
            emit_json({"delivery": d.id, "webhook": r["hook"], "partner": r["partner"], "url": d.target,
                       "event": d.payload.get("event"), "event_id": d.payload.get("event_id"), "about": d.ref,
                       "state": d.state.value, "attempts": d.attempts, "created_at": iso(d.created_at.timestamp()),
                       "sent_at": iso(d.sent_at.timestamp()) if d.sent_at else None,
                       "next_attempt_at": iso(d.next_attempt_at.timestamp()) if d.next_attempt_at else None,
                       "last_error": d.last_error,
                       "tries": [{"at": iso(t["at"].timestamp()), "status": t["status"], "error": t["error"],
                                  "duration_ms": t["duration_ms"]} for t in r["tries"]]})
        return 0
    if not rows:
        print("no webhook deliveries")
        return 0
    print(table([[r["delivery"].id, r["partner"] or "?", r["delivery"].payload.get("event", ""), r["delivery"].ref or "",
                  r["delivery"].state.value, r["delivery"].attempts,
                  _status(r["tries"][-1]) if r["tries"] else "-",
                  f"{r['delivery'].created_at:%Y-%m-%d %H:%M:%S}", r["delivery"].last_error or ""] for r in rows],
                ["delivery", "partner", "event", "about", "state", "tries", "last status", "created (UTC)",
                 "last error"]))
    return 0
