"""`orderq stock receive SKU QTY`: incoming stock, which goes to waiting orders earliest due first."""
from __future__ import annotations

import argparse

from cli.common import USER_HELP, emit_json, user_desk


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    stock = sub.add_parser("stock", help="book incoming stock", parents=[parent])
    ssub = stock.add_subparsers(dest="stock_cmd", required=True, parser_class=type(stock))
    rec = ssub.add_parser("receive", help="supervisor: book stock in; it goes to backorders and stock holds, "
                                          "earliest due first", parents=[parent])
    rec.add_argument("sku", help="the product's SKU")
    rec.add_argument("qty", help="how many units arrived (a whole number ≥ 1)")
    rec.add_argument("--note", help="e.g. the delivery note's number")
    rec.add_argument("--user", help=USER_HELP)
    rec.add_argument("--json", action="store_true", help="what happened as one JSON line")
    rec.set_defaults(func=cmd_receive)


def cmd_receive(args: argparse.Namespace) -> int:
    desk = user_desk(args)
    got = desk.stock.receive(args.sku, args.qty, args.note)
    if args.json:
        emit_json(got)
        return 0
    print(f"{got['sku']}: {got['received']} received, {got['stock']} free in stock now")
    for s in got["served"]:
        units = sum(s["lines"].values())
        how = "stock hold lifted, back in the queue" if s["freed"] else (
            "ready to ship" if not s["backordered"] else f"{s['backordered']} still on backorder")
        print(f"  {s['order']}: {units} set aside ({how})")
    return 0
