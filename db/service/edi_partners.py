"""EDI trading-partner profiles on the partners registry (db/service/partners.py): interchange ids,
the outbox folder acknowledgments go to, the party map, the item cross-reference, product barcodes.

Each setter reads and checks everything before its one transaction (a bad CSV row refuses the whole
file naming its row, and nothing is written) and records what changed as an event on the partner.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from core.edi_mapping import gtin_key
from core.errors import NotFound, ValidationError
from core.permissions import Action
from db.dbapi import Connection
from db import events
from db.service.context import Context
from db.service.partners import Partner, get_partner

#: an xref or barcodes file is a few thousand rows; anything past this is the wrong file
MAX_CSV_BYTES = 20 * 1024 * 1024
#: ISA05 is 2 characters, ISA06 and UNB S002 up to 15 / 35
_ISA_QUAL = re.compile(r"^[0-9A-Z]{2}$")
_ID = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,34}$")


@dataclass(frozen=True)
class EdiProfile:
    partner: Partner
    isa_qualifier: str | None
    isa_id: str | None
    unb_id: str | None
    outbox: str | None


def profile(c: Connection, partner_id: int) -> EdiProfile:
    row = c.execute("SELECT name, isa_qualifier, isa_id, unb_id, edi_outbox FROM partners WHERE id = ?",
                    (partner_id,)).fetchone()
    p = get_partner(c, row["name"])
    assert p is not None
    return EdiProfile(p, row["isa_qualifier"], row["isa_id"], row["unb_id"], row["edi_outbox"])


def partner_for(c: Connection, standard: str, qualifier: str, sender: str) -> EdiProfile | None:
    """The partner an interchange comes from: ISA05+ISA06 for X12, the UNB sender for EDIFACT."""
    if standard == "x12":
        row = c.execute("SELECT id FROM partners WHERE isa_qualifier = ? AND isa_id = ?",
                        (qualifier.strip(), sender.strip())).fetchone()
    else:
        row = c.execute("SELECT id FROM partners WHERE unb_id = ?", (sender.strip(),)).fetchone()
    return profile(c, row["id"]) if row else None


def xref_of(c: Connection, partner_id: int) -> dict[tuple[str, str], str]:
    return {(r[0], r[1]): r[2] for r in c.execute("SELECT qualifier, code, sku FROM edi_xref WHERE partner_id = ?",
                                                  (partner_id,))}


def barcodes(c: Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in c.execute("SELECT gtin, sku FROM product_barcodes")}


def party_map(c: Connection, partner_id: int) -> dict[str, int]:
    return {r[0]: r[1] for r in c.execute("SELECT code, address_id FROM edi_party_map WHERE partner_id = ?",
                                          (partner_id,))}


def save_xref(c: Connection, partner_id: int, rows: list[tuple[str, str, str]]) -> None:
    c.executemany("INSERT INTO edi_xref (partner_id, qualifier, code, sku) VALUES (?,?,?,?) "
                  "ON CONFLICT (partner_id, qualifier, code) DO UPDATE SET sku = excluded.sku",
                  [(partner_id, q, code, sku) for code, q, sku in rows])


def read_csv_rows(path: str | Path, columns: int, header_first: str) -> list[list[str]]:
    """The rows of a small CSV (`columns` fields each; a first row starting `header_first` is a header)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CSV_BYTES + 1)
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror or e}", field="file") from None
    if len(data) > MAX_CSV_BYTES:
        raise ValidationError(f"{path} is over {MAX_CSV_BYTES // (1024 * 1024)} MiB; not a cross-reference file",
                              field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text", field="file") from None
    rows = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or all(not x.strip() for x in row):
                continue
            if i == 1 and row[0].strip().lower() == header_first:
                continue
            if len(row) != columns:
                raise ValidationError(f"{Path(path).name} row {i}: {len(row)} fields, expected {columns}", field="file")
            rows.append([x.strip() for x in row] + [str(i)])
    except csv.Error as e:
        raise ValidationError(f"{Path(path).name}: not CSV: {e}", field="file") from None
    if not rows:
        raise ValidationError(f"{Path(path).name} has no rows", field="file")
    return rows


class EdiPartnerService:
    """`orderq partners edi / xref / barcodes`, and the TUI's F4 mapping (save one code)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _partner(self, c: Connection, name: str) -> Partner:
        p = get_partner(c, name)
        if p is None:
            raise NotFound(f"unknown partner {name!r} (`orderq partners list` shows them)", field="name")
        return p

    def set_profile(self, name: str, *, isa: str | None = None, unb: str | None = None, outbox: str | None = None,
                    parties: list[str] = ()) -> EdiProfile:  # type: ignore[assignment]
        """Interchange ids, outbox folder and party codes ("CODE=ADDRESS_ID"); unset ones keep their value."""
        self.ctx.require(Action.PARTNERS, name)
        if isa is not None and unb is not None:
            raise ValidationError("give --isa or --unb, not both", field="isa")
        isa_q = isa_id = None
        if isa is not None:
            q, sep, ident = isa.partition(":")
            q, ident = q.strip().upper(), ident.strip()
            if not sep or not _ISA_QUAL.match(q) or not ident or len(ident) > 15 or not _ID.match(ident):
                raise ValidationError(f"--isa {isa!r}: give QUALIFIER:ID (ISA05, two characters, and ISA06, "
                                      "up to 15), e.g. ZZ:ACME", field="isa")
            isa_q, isa_id = q, ident
        if unb is not None and not _ID.match(unb.strip()):
            raise ValidationError(f"--unb {unb!r}: give the UNB sender id (1 to 35 printable characters)", field="unb")
        out_real = None
        if outbox is not None:
            out_real = os.path.realpath(outbox)
            if not os.path.isdir(out_real):
                raise ValidationError(f"--outbox {outbox} is not a folder", field="outbox")
            if not os.access(out_real, os.W_OK):
                raise ValidationError(f"--outbox {outbox} is not writable", field="outbox")
        mapped: list[tuple[str, int]] = []
        for spec in parties:
            code, sep, addr = spec.partition("=")
            if not sep or not code.strip() or not addr.strip().isdigit():
                raise ValidationError(f"--party {spec!r}: give CODE=ADDRESS_ID", field="party")
            mapped.append((code.strip(), int(addr)))
        with self.ctx.write() as c:
            p = self._partner(c, name)
            if p.channel != "edi":
                raise ValidationError(f"partner {name!r} is an {p.channel} partner; EDI needs channel edi", field="name")
            if p.customer_id is None:
                raise ValidationError(f"partner {name!r} orders for no customer; add it with --customer",
                                      field="customer")
            before = profile(c, p.id)
            if isa_id is not None:
                clash = c.execute("SELECT name FROM partners WHERE isa_qualifier = ? AND isa_id = ? AND id != ?",
                                  (isa_q, isa_id, p.id)).fetchone()
                if clash:
                    raise ValidationError(f"ISA {isa_q}:{isa_id} is partner {clash[0]}'s already", field="isa")
                c.execute("UPDATE partners SET isa_qualifier = ?, isa_id = ?, version = version + 1 WHERE id = ?",
                          (isa_q, isa_id, p.id))
            if unb is not None:
                clash = c.execute("SELECT name FROM partners WHERE unb_id = ? AND id != ?", (unb.strip(), p.id)).fetchone()
                if clash:
                    raise ValidationError(f"UNB sender {unb.strip()} is partner {clash[0]}'s already", field="unb")
                c.execute("UPDATE partners SET unb_id = ?, version = version + 1 WHERE id = ?", (unb.strip(), p.id))
            if out_real is not None:
                c.execute("UPDATE partners SET edi_outbox = ? WHERE id = ?", (out_real, p.id))
            for code, addr in mapped:
                r = c.execute("SELECT customer_id, kind FROM customer_addresses WHERE id = ?", (addr,)).fetchone()
                if r is None or r[0] != p.customer_id or r[1] != "ship_to":
                    raise ValidationError(f"--party {code}={addr}: address {addr} is not a ship-to of {p.customer} "
                                          "(`orderq customers show` lists them)", field="party")
                c.execute("INSERT INTO edi_party_map (partner_id, code, address_id) VALUES (?,?,?) "
                          "ON CONFLICT (partner_id, code) DO UPDATE SET address_id = excluded.address_id",
                          (p.id, code, addr))
            after = profile(c, p.id)
            if after.outbox is None:
                raise ValidationError(f"partner {name!r} needs --outbox DIR, where its acknowledgments go",
                                      field="outbox")
            if after.isa_id is None and after.unb_id is None:
                raise ValidationError(f"partner {name!r} needs --isa QUAL:ID or --unb ID", field="isa")
            events.append(c, at=self.ctx.now(), actor=self.ctx.actor.name, entity="partner", entity_id=p.id, ref=name,
                          action="edi_profile_set",
                          data={"isa": f"{after.isa_qualifier}:{after.isa_id}" if after.isa_id else None,
                                "unb": after.unb_id, "outbox": after.outbox,
                                "was": {"isa": f"{before.isa_qualifier}:{before.isa_id}" if before.isa_id else None,
                                        "unb": before.unb_id, "outbox": before.outbox},
                                "parties": dict(mapped)})
        return after

    def load_xref(self, name: str, path: str | Path) -> int:
        """The partner's cross-reference from a CSV of code,qualifier,sku (header optional); rows for a
        code already mapped replace its SKU. Every SKU must exist; returns the rows taken."""
        self.ctx.require(Action.PARTNERS, name)
        rows = read_csv_rows(path, 3, "code")
        fname = Path(path).name
        with self.ctx.write() as c:
            p = self._partner(c, name)
            known = {r[0] for r in c.execute("SELECT sku FROM products")}
            taken = []
            for code, qual, sku, row in rows:
                if not code or not qual or len(code) > 48 or len(qual) > 3 or not code.isprintable():
                    raise ValidationError(f"{fname} row {row}: give a code and a qualifier (UP, EN, BP, VN…)",
                                          field="file")
                if sku.upper() not in known:
                    raise ValidationError(f"{fname} row {row}: unknown SKU {sku!r}", field="file")
                taken.append((code, qual.upper(), sku.upper()))
            save_xref(c, p.id, taken)
            events.append(c, at=self.ctx.now(), actor=self.ctx.actor.name, entity="partner", entity_id=p.id, ref=name,
                          action="edi_xref_loaded", data={"file": fname, "rows": len(taken)})
        return len(taken)

    def load_barcodes(self, path: str | Path) -> int:
        """Product barcodes from a CSV of sku,barcode (header optional): GTIN-8/12/13/14."""
        self.ctx.require(Action.PARTNERS)
        rows = read_csv_rows(path, 2, "sku")
        fname = Path(path).name
        with self.ctx.write() as c:
            known = {r[0] for r in c.execute("SELECT sku FROM products")}
            taken = []
            for sku, code, row in rows:
                if sku.upper() not in known:
                    raise ValidationError(f"{fname} row {row}: unknown SKU {sku!r}", field="file")
                key = gtin_key(code)
                if key is None:
                    raise ValidationError(f"{fname} row {row}: {code!r} is not a GTIN/UPC (8, 12, 13 or 14 digits)",
                                          field="file")
                taken.append((key, sku.upper()))
            c.executemany("INSERT INTO product_barcodes (gtin, sku) VALUES (?,?) "
                          "ON CONFLICT (gtin) DO UPDATE SET sku = excluded.sku", taken)
            events.append(c, at=self.ctx.now(), actor=self.ctx.actor.name, entity="product", entity_id=None,
                          ref=fname, action="barcodes_loaded", data={"rows": len(taken)})
        return len(taken)
