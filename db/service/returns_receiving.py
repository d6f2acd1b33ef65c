"""Receiving and inspecting returned goods: units received per line (short receipts allowed), then a
grade and a disposition per received line, `restock` putting the units back in stock.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from core.enums import Disposition, Grade
from core.errors import ValidationError
from core.permissions import Action
from db.convert import ts
from db.service.returns_read import ReturnReads, _int


class ReturnReceiving(ReturnReads):
    """The warehouse side of a return: what arrived, and in what condition."""

    def receive(self, number: str, received: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        """Record units received per line (ref → qty); lines not named arrived in full. Short receipts allowed."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row, new = self._fenced_step(c, number, now, "receive", token)
            lines = self._lines(c, row["id"])
            got = {ln["id"]: ln["qty"] for ln in lines}
            for ref, qty in (received or {}).items():
                ln = self._match(lines, ref)
                n = _int(qty, f"received quantity for {ref}", "qty_received")
                if not 0 <= n <= ln["qty"]:
                    raise ValidationError(f"{ln['sku']}: received {n}, must be 0 to {ln['qty']} (the quantity authorized)",
                                          field="qty_received")
                got[ln["id"]] = n
            short = []
            for ln in lines:
                c.execute("UPDATE return_lines SET qty_received = ? WHERE id = ?", (got[ln["id"]], ln["id"]))
                if got[ln["id"]] < ln["qty"]:
                    short.append({"sku": ln["sku"], "order": ln["order_number"], "expected": ln["qty"],
                                  "received": got[ln["id"]]})
            self._update(c, row, now, state=new.value, received_at=ts(now))
            self._event(c, row, now, "receive", state=new.value,
                        received={ln["sku"]: got[ln["id"]] for ln in lines}, short=short or None)
        return self.detail(number)

    def inspect(self, number: str, results: dict[str, tuple[str, str]] | None = None, *,
                default: tuple[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
        """Grade and disposition per received line (ref → (grade, disposition)); `restock` puts units back in stock."""
        self.ctx.require(Action.RETURN_WORK, number)
        now = self.ctx.now()
        with self.ctx.write() as c:
            row, new = self._fenced_step(c, number, now, "inspect", token)
            lines = self._lines(c, row["id"])
            chosen: dict[int, tuple[str, str]] = {}
            for ref, gd in (results or {}).items():
                chosen[self._match(lines, ref)["id"]] = gd
            stock: dict[str, int] = defaultdict(int)
            record = []
            for ln in lines:
                if not ln["qty_received"]:
                    continue
                gd = chosen.get(ln["id"], default)
                if gd is None:
                    raise ValidationError(f"{ln['order_number']}/{ln['sku']}: give a grade and a disposition",
                                          field="grade")
                try:
                    grade = Grade(gd[0].strip().lower())
                except ValueError:
                    raise ValidationError(f"unknown grade {gd[0]!r} ({', '.join(g.value for g in Grade)})",
                                          field="grade") from None
                try:
                    disp = Disposition(gd[1].strip().lower())
                except ValueError:
                    raise ValidationError(f"unknown disposition {gd[1]!r} ({', '.join(d.value for d in Disposition)})",
                                          field="disposition") from None
                c.execute("UPDATE return_lines SET grade = ?, disposition = ? WHERE id = ?",
                          (grade.value, disp.value, ln["id"]))
                if disp == Disposition.RESTOCK:
                    stock[ln["sku"]] += ln["qty_received"]
                record.append({"sku": ln["sku"], "order": ln["order_number"], "grade": grade.value,
                               "disposition": disp.value, "qty": ln["qty_received"]})
            for sku, n in stock.items():
                c.execute("UPDATE products SET stock = stock + ?, version = version + 1 WHERE sku = ?", (n, sku))
            data: dict[str, Any] = {"state": new.value, "lines": record}
            if stock:
                data["stock"] = dict(stock)
            self._update(c, row, now, state=new.value, inspected_at=ts(now))
            self._event(c, row, now, "inspect", **data)
        return self.detail(number)
