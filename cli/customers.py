"""`orderq customers …`: customers, their addresses and contacts (db.service.customers does the checking)."""
from __future__ import annotations

import argparse
from typing import Any

from core.addresses import address_line
from cli.common import USER_HELP, emit_json, emit_lines, operator_desk, table

_TIERS = "standard, repeat, key_account"


def address_flags(p: argparse.ArgumentParser, prefix: str = "", what: str = "the address") -> None:
    """--name/--street/--city/--region/--postcode/--country (with `prefix`, e.g. --ship-name on `order new`)."""
    p.add_argument(f"--{prefix}name", help=f"{what}: the name on the label")
    p.add_argument(f"--{prefix}street", action="append", default=None, metavar="LINE",
                   help=f"{what}: a street line (repeat for up to 3)")
    p.add_argument(f"--{prefix}city", help=f"{what}: city")
    p.add_argument(f"--{prefix}region", help=f"{what}: region, state or county")
    p.add_argument(f"--{prefix}postcode", help=f"{what}: postcode")
    p.add_argument(f"--{prefix}country", help=f"{what}: country")


def address_fields(args: argparse.Namespace, prefix: str = "") -> dict[str, Any]:
    """The address parts given on the command line (None where a flag was left out)."""
    p = prefix.replace("-", "_")
    return {k: getattr(args, f"{p}{k}") for k in ("name", "street", "city", "region", "postcode", "country")}


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    cust = sub.add_parser("customers", help="customers, their addresses and contacts", parents=[parent])
    csub = cust.add_subparsers(dest="customers_cmd", required=True, parser_class=type(cust))

    def cmd(name: str, help: str, func) -> argparse.ArgumentParser:  # noqa: ANN001
        p = csub.add_parser(name, help=help, parents=[parent])
        p.add_argument("--user", help=USER_HELP)
        p.add_argument("--json", action="store_true", help="the result as JSON")
        p.set_defaults(func=func)
        return p

    lst = cmd("list", "customers with the city and country of their default ship-to (JSON lines)", cmd_list)
    lst.add_argument("--search", help="only customers whose code, name, city or country holds this text")
    show = cmd("show", "one customer: addresses, contacts, balance against the credit limit, latest orders", cmd_show)
    show.add_argument("code", help="customer code, e.g. C00006")
    add = cmd("add", "supervisor/admin: a new customer", cmd_add)
    add.add_argument("code", help="the new customer's code (letters, digits, - and _)")
    add.add_argument("--name", required=True, help="company name")
    add.add_argument("--tier", default="standard", help=f"{_TIERS} (default standard)")
    add.add_argument("--credit-limit", default="0", help="credit limit, e.g. 5000.00 (default 0)")
    add.add_argument("--po-required", action="store_true", help="orders need the customer's PO number to be released")
    edit = cmd("edit", "supervisor/admin: change a customer's name, tier, credit limit or PO rule", cmd_edit)
    edit.add_argument("code", help="customer code")
    edit.add_argument("--name", help="company name")
    edit.add_argument("--tier", help=_TIERS)
    edit.add_argument("--credit-limit", help="credit limit")
    edit.add_argument("--po-required", choices=["yes", "no"], help="orders need a PO number to be released")

    for noun, kind_help in (("address", "ship_to or bill_to"), ("contact", None)):
        p = csub.add_parser(noun, help=f"add or edit a customer's {noun}", parents=[parent])
        nsub = p.add_subparsers(dest=f"{noun}_cmd", required=True, parser_class=type(p))
        for verb in ("add", "edit"):
            q = nsub.add_parser(verb, help=f"{verb} a{'n' if noun == 'address' else ''} {noun}", parents=[parent])
            q.add_argument("--user", help=USER_HELP)
            q.add_argument("--json", action="store_true", help="the result as JSON")
            if verb == "add":
                q.add_argument("code", help="customer code")
            else:
                q.add_argument("id", type=int, help=f"the {noun}'s id (`customers show` lists them)")
            if noun == "address":
                if verb == "add":
                    q.add_argument("--kind", default="ship_to", help=f"{kind_help} (default ship_to)")
                q.add_argument("--default", action="store_true", help="make it the default of its kind")
                address_flags(q)
                q.set_defaults(func=cmd_address_add if verb == "add" else cmd_address_edit)
            else:
                q.add_argument("--name", required=verb == "add", help="the contact's name")
                q.add_argument("--email", help="email address")
                q.add_argument("--phone", help="phone number")
                q.set_defaults(func=cmd_contact_add if verb == "add" else cmd_contact_edit)


def cmd_list(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    rows = desk.customers.list(args.search)
    if args.json:
        emit_lines(rows)
        return 0
    print(table([[r["code"], r["name"], r["place"], r["tier"], r["open_balance"], r["credit_limit"],
                  "yes" if r["po_required"] else ""] for r in rows],
                ["code", "name", "city, country", "tier", "balance", "credit limit", "PO req."]))
    print(f"{len(rows)} customers")
    return 0


def _print_customer(d: dict[str, Any]) -> None:
    print(f"{d['code']}  {d['name']}  ({d['place'] or 'no ship-to address'})  tier {d['tier']}"
          + ("  PO required" if d["po_required"] else ""))
    print(f"balance {d['open_balance']} of credit limit {d['credit_limit']}  (available {d['available']})")
    for a in d["addresses"]:
        print(f"  address {a['id']:>4}  {a['kind']:<7} {'default' if a['default'] else '       '}  {address_line(a)}")
    for k in d["contacts"]:
        print(f"  contact {k['id']:>4}  {k['name']}  {k['email'] or ''}  {k['phone'] or ''}")
    if d["recent_orders"]:
        print("latest orders:")
        for o in d["recent_orders"]:
            print(f"  {o['number']}  {o['received_at'][:10]}  {o['state']:<11} {o['total']:>12}  {o['po_number'] or ''}")


def cmd_show(args: argparse.Namespace) -> int:
    d = operator_desk(args).customers.show(args.code)
    if args.json:
        emit_json(d)
    else:
        _print_customer(d)
    return 0


def _done(args: argparse.Namespace, desk, code: str, what: str) -> int:  # noqa: ANN001
    if args.json:
        emit_json(desk.customers.show(code))
    else:
        print(f"{code}: {what}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    d = desk.customers.add(args.code, args.name, tier=args.tier, credit_limit=args.credit_limit,
                           po_required=args.po_required)
    return _done(args, desk, d["code"], "added")


def cmd_edit(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    po = None if args.po_required is None else args.po_required == "yes"
    d = desk.customers.edit(args.code, name=args.name, tier=args.tier, credit_limit=args.credit_limit, po_required=po)
    return _done(args, desk, d["code"], "changed")


def _item(args: argparse.Namespace, item: dict[str, Any], what: str) -> int:
    if args.json:
        emit_json(item)
    else:
        print(f"{what} {item['id']}: " + (address_line(item) if "kind" in item else
                                          "  ".join(x for x in (item["name"], item["email"], item["phone"]) if x)))
    return 0


def cmd_address_add(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    return _item(args, desk.customers.add_address(args.code, args.kind, address_fields(args), default=args.default),
                 "address")


def cmd_address_edit(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    return _item(args, desk.customers.edit_address(args.id, address_fields(args), default=args.default or None),
                 "address")


def cmd_contact_add(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    return _item(args, desk.customers.add_contact(args.code, {"name": args.name, "email": args.email,
                                                              "phone": args.phone}), "contact")


def cmd_contact_edit(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    return _item(args, desk.customers.edit_contact(args.id, {"name": args.name, "email": args.email,
                                                             "phone": args.phone}), "contact")
