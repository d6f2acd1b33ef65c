"""`orderq order ack NUMBER` and `orderq order pick-ticket NUMBER`: the papers, as text or printable HTML.

`--html FILE` goes through the output guard (never the database, its companions, a folder, or a file
that is not an earlier paper) and is written atomically (db.outputs).
"""
from __future__ import annotations

import argparse

from cli.common import USER_HELP, db_path, operator_desk


def register(osub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    for name, help in (("ack", "the customer's order acknowledgment: lines, prices, totals, ship-to, PO, expected date"),
                       ("pick-ticket", "the warehouse's pick list: lines, quantities, ship-to, shipping method")):
        p = osub.add_parser(name, help=help, parents=[parent])
        p.add_argument("number", help="order number, e.g. SO-000123")
        p.add_argument("--user", help=USER_HELP)
        p.add_argument("--html", metavar="FILE", help="write a self-contained printable HTML page here instead")
        p.set_defaults(func=cmd_paper, paper=name)


def cmd_paper(args: argparse.Namespace) -> int:
    from core.papers import HTML_MARKER, ack_html, ack_text, pick_html, pick_text
    from db.outputs import guard, write_text

    dest = guard(args.html, flag="--html", database=db_path(args), marker=HTML_MARKER, what="paper") \
        if args.html else None
    desk = operator_desk(args)
    o = desk.orders.get(args.number)
    now = desk.now()
    if dest is None:
        print(ack_text(o, now) if args.paper == "ack" else pick_text(o), end="")
        return 0
    write_text(dest, ack_html(o, now) if args.paper == "ack" else pick_html(o), flag="--html")
    print(f"{o.number}: {'acknowledgment' if args.paper == 'ack' else 'pick ticket'} written to {args.html}")
    return 0
