"""`orderq partners …`: partners, their API keys and webhook secrets (db/service/partners.py).

A key is printed once, by `add` and `rotate`; it is stored only hashed and cannot be shown again.
"""
from __future__ import annotations

import argparse

from cli.common import emit_json, emit_lines, operator_desk, table
from db.service.partners import CHANNELS, NewKey, read_secret_file


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    top = sub.add_parser("partners", help="partners (web shops, EDI senders) and their API keys", parents=[parent])
    psub = top.add_subparsers(dest="partners_cmd", required=True, parser_class=type(top))

    p = psub.add_parser("add", parents=[parent], help="a new partner; prints its API key once")
    p.add_argument("name")
    p.add_argument("--channel", required=True, choices=CHANNELS)
    p.add_argument("--customer", help="the one customer this partner orders for (code, number or name)")
    p.add_argument("--may-set-prices", action="store_true", help="its order lines may carry their own unit price")
    p.add_argument("--webhook-secret-file", help="a file holding the shared secret its webhooks are signed with")
    p.add_argument("--json", action="store_true", help='print {"name": …, "key": …}')
    p.add_argument("--user", help="acting admin (default: the operator at the shell)")
    p.set_defaults(func=cmd_add)

    p = psub.add_parser("list", parents=[parent])
    p.add_argument("--json", action="store_true", help="one JSON line per partner")
    p.add_argument("--user")
    p.set_defaults(func=cmd_list)

    p = psub.add_parser("rotate", parents=[parent], help="a new API key; the old one stops working at once")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")
    p.set_defaults(func=cmd_rotate)

    for name, func in (("disable", cmd_disable), ("enable", cmd_enable)):
        p = psub.add_parser(name, parents=[parent])
        p.add_argument("name")
        p.add_argument("--user")
        p.set_defaults(func=func)

    p = psub.add_parser("secret", parents=[parent], help="set or replace a partner's webhook secret")
    p.add_argument("name")
    p.add_argument("--webhook-secret-file", required=True)
    p.add_argument("--user")
    p.set_defaults(func=cmd_secret)

    from cli.partners_edi import register_edi

    register_edi(psub, parent)


def _print_key(args: argparse.Namespace, made: NewKey, what: str) -> None:
    if args.json:
        emit_json({"name": made.partner.name, "key": made.key})
    else:
        print(f"partner {made.partner.name} {what}; its API key (shown once, store it now):")
        print(made.key)


def cmd_add(args: argparse.Namespace) -> int:
    secret = read_secret_file(args.webhook_secret_file) if args.webhook_secret_file else None  # before any write
    desk = operator_desk(args)
    made = desk.partners.add(args.name, args.channel, customer=args.customer, may_set_prices=args.may_set_prices,
                             webhook_secret=secret)
    _print_key(args, made, "added")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = operator_desk(args).partners.list()
    if args.json:
        emit_lines(rows)
    else:
        print(table([[r["name"], r["channel"], r["customer"] or "-", "yes" if r["may_set_prices"] else "no",
                      r["key_prefix"] + "…", "yes" if r["webhook_secret"] else "no", "yes" if r["active"] else "no"]
                     for r in rows], ["name", "channel", "customer", "prices", "key", "webhook secret", "active"]))
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    made = operator_desk(args).partners.rotate(args.name)
    _print_key(args, made, "has a new key (the old one is refused from now on)")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    operator_desk(args).partners.disable(args.name)
    print(f"partner {args.name} disabled; its requests are refused (403)")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    operator_desk(args).partners.enable(args.name)
    print(f"partner {args.name} enabled")
    return 0


def cmd_secret(args: argparse.Namespace) -> int:
    secret = read_secret_file(args.webhook_secret_file)
    operator_desk(args).partners.set_webhook_secret(args.name, secret)
    print(f"partner {args.name}: webhook secret set")
    return 0
