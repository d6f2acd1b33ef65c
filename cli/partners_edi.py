"""`orderq partners edi / xref / barcodes`: a partner's EDI profile, its item cross-reference, and the
product barcodes every partner's codes are matched against (db/service/edi_partners.py)."""
from __future__ import annotations

import argparse

from cli.common import operator_desk


def register_edi(psub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = psub.add_parser("edi", parents=[parent], help="EDI profile: interchange id, outbox folder, party codes")
    p.add_argument("name")
    ids = p.add_mutually_exclusive_group()
    ids.add_argument("--isa", metavar="QUAL:ID", help="X12 sender: ISA05 qualifier and ISA06 id, e.g. ZZ:ACME")
    ids.add_argument("--unb", metavar="ID", help="EDIFACT sender: the UNB sender id")
    p.add_argument("--outbox", metavar="DIR", help="folder the partner's 997/855 or CONTRL/ORDRSP are written to")
    p.add_argument("--party", action="append", default=[], metavar="CODE=ADDRESS_ID",
                   help="the partner's ship-to party code (N1*ST / NAD+DP) is this ship-to address of its customer")
    p.add_argument("--user")
    p.set_defaults(func=cmd_edi)

    p = psub.add_parser("xref", parents=[parent], help="load a partner's item cross-reference (CSV code,qualifier,sku)")
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--user")
    p.set_defaults(func=cmd_xref)

    p = psub.add_parser("barcodes", parents=[parent],
                        help="load product barcodes (CSV sku,barcode: GTIN/UPC), item codes for every partner")
    p.add_argument("file")
    p.add_argument("--user")
    p.set_defaults(func=cmd_barcodes)


def cmd_edi(args: argparse.Namespace) -> int:
    prof = operator_desk(args).edi_partners.set_profile(args.name, isa=args.isa, unb=args.unb, outbox=args.outbox,
                                                        parties=args.party)
    ident = f"ISA {prof.isa_qualifier}:{prof.isa_id}" if prof.isa_id else f"UNB {prof.unb_id}"
    print(f"partner {args.name}: EDI from {ident}; acknowledgments to {prof.outbox}"
          + (f"; {len(args.party)} party code(s) mapped" if args.party else ""))
    return 0


def cmd_xref(args: argparse.Namespace) -> int:
    n = operator_desk(args).edi_partners.load_xref(args.name, args.file)
    print(f"partner {args.name}: {n} cross-reference row(s) loaded")
    return 0


def cmd_barcodes(args: argparse.Namespace) -> int:
    n = operator_desk(args).edi_partners.load_barcodes(args.file)
    print(f"{n} barcode(s) loaded")
    return 0
