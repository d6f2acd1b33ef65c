"""`orderq check` invariants for returns (added to db.check.CHECKS).

- every order line's `qty_returned` equals what its returns hold: the requested quantity of open
  returns, the received quantity of resolved or closed ones, nothing for rejected ones;
- refunds of one order line never add up to more than the customer paid for it;
- an exchange and its replacement order point at each other;
- a return takes back only goods that shipped: every order it names is shipped or closed.
"""
from __future__ import annotations


from core.enums import OrderState
from core.money import from_cents_int
from db.dbapi import Connection

RETURNABLE = tuple(s.value for s in OrderState if s.returnable)


def returned_agrees_with_returns(conn: Connection) -> list[str]:
    return [
        f"order {r['number']} line {r['line_no']}: qty_returned {r['qty_returned']} but its returns hold {r['held']}"
        for r in conn.execute(
            """SELECT o.number, l.line_no, l.qty_returned, COALESCE((
                   SELECT SUM(CASE WHEN x.state IN ('resolved','closed') THEN COALESCE(rl.qty_received, 0)
                                   WHEN x.state = 'rejected' THEN 0 ELSE rl.qty END)
                   FROM return_lines rl JOIN returns x ON x.id = rl.return_id WHERE rl.order_line_id = l.id), 0) AS held
               FROM order_lines l JOIN orders o ON o.id = l.order_id
               WHERE l.qty_returned != 0 OR EXISTS (SELECT 1 FROM return_lines rl WHERE rl.order_line_id = l.id)""")
        if r["qty_returned"] != r["held"]
    ]


def refunds_within_paid(conn: Connection) -> list[str]:
    return [
        f"order {r['number']} line {r['line_no']}: refunded {from_cents_int(r['refunded'])} of "
        f"{from_cents_int(r['amount_cents'])} paid"
        for r in conn.execute(
            """SELECT o.number, l.line_no, l.amount_cents, SUM(rl.refund_cents) AS refunded
               FROM return_lines rl JOIN returns x ON x.id = rl.return_id
               JOIN order_lines l ON l.id = rl.order_line_id JOIN orders o ON o.id = l.order_id
               WHERE x.state IN ('resolved','closed') GROUP BY l.id, o.number HAVING SUM(rl.refund_cents) > l.amount_cents""")
    ]


def exchanges_linked(conn: Connection) -> list[str]:
    problems = [
        f"return {r['number']}: exchange order id {r['exchange_order_id']} does not point back to it"
        for r in conn.execute(
            """SELECT x.number, x.exchange_order_id FROM returns x LEFT JOIN orders o ON o.id = x.exchange_order_id
               WHERE x.exchange_order_id IS NOT NULL AND (o.id IS NULL OR o.exchange_for_return_id IS DISTINCT FROM x.id)""")
    ]
    problems += [
        f"order {r['number']}: replacement for return id {r['exchange_for_return_id']} that does not name it"
        for r in conn.execute(
            """SELECT o.number, o.exchange_for_return_id FROM orders o LEFT JOIN returns x ON x.id = o.exchange_for_return_id
               WHERE o.exchange_for_return_id IS NOT NULL AND (x.id IS NULL OR x.exchange_order_id IS DISTINCT FROM o.id)""")
    ]
    return problems


def returns_against_shipped(conn: Connection) -> list[str]:
    marks = ",".join("?" * len(RETURNABLE))
    return [
        f"return {r['number']}: takes back {r['sku']} from order {r['order_number']}, which is {r['state']} "
        "(only shipped goods can be returned)"
        for r in conn.execute(
            f"""SELECT x.number, rl.sku, o.number AS order_number, o.state FROM return_lines rl
                JOIN returns x ON x.id = rl.return_id JOIN orders o ON o.id = rl.order_id
                WHERE o.state NOT IN ({marks}) AND NOT (o.state = 'cancelled' AND EXISTS
                  (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.qty_shipped > 0))
                ORDER BY x.id, rl.id""", RETURNABLE)
    ]


RETURN_CHECKS = [
    ("returned quantities agree with returns", returned_agrees_with_returns),
    ("refunds within what was paid", refunds_within_paid),
    ("exchanges linked both ways", exchanges_linked),
    ("returns only of shipped orders", returns_against_shipped),
]
