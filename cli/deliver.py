"""`orderq deliver [--once]`: the delivery worker alone; `orderq deliveries [--json] [--all]`: what is owed.

The worker runs only here (and in the HTTP API server), never inside a TUI session or `orderq serve`:
WHY — sessions come and go by the dozen, and every one sending mail would multiply the SMTP
connections and make "is mail going out?" depend on who is logged in. One `orderq deliver` per desk
(several are safe: each delivery is leased to one worker) is a process an operator can see and
restart. It always runs on the real clock (`--now` is refused): back-off and leases follow real time.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from cli.common import USER_HELP, emit_json, open_store, operator_desk, table
from db.convert import iso


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("deliver", help="run the delivery worker: papers to the outbox folder, mail, webhooks",
                       parents=[parent])
    p.add_argument("--once", action="store_true", help="send what is due now, then exit")
    p.add_argument("--name", default=None, help="this worker's name in the outbox (default host:pid)")
    p.set_defaults(func=cmd_deliver)
    q = sub.add_parser("deliveries", help="deliveries still pending or failed, with the last error", parents=[parent])
    q.add_argument("--json", action="store_true", help="one JSON line per delivery")
    q.add_argument("--all", action="store_true", help="the sent ones too")
    q.add_argument("--user", help=USER_HELP)
    q.set_defaults(func=cmd_deliveries)


def cmd_deliver(args: argparse.Namespace) -> int:
    from db.deliver.worker import Outcome, Worker

    store = open_store(args)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: object) -> None:
        stop.set()

    def report(o: Outcome) -> None:
        print(o.line(), flush=True)

    try:
        worker = Worker(store, name=args.name)
        if args.once:
            done = worker.run_once(stop, report)
            print(f"{len(done)} tried", flush=True)
            return 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        print(f"delivering as {worker.name} ({', '.join(sorted(worker.senders))}); stop with Ctrl-C or SIGTERM",
              flush=True)
        worker.run(stop, report)
        print("stopped", flush=True)
        return 0
    finally:
        store.close()


def cmd_deliveries(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    rows = desk.deliveries.listing(everything=args.all)
    if args.json:
        for d in rows:
            emit_json({"id": d.id, "kind": d.kind, "target": d.target, "ref": d.ref, "state": d.state.value,
                       "attempts": d.attempts, "created_at": iso(d.created_at.timestamp()),
                       "next_attempt_at": iso(d.next_attempt_at.timestamp()) if d.next_attempt_at else None,
                       "last_error": d.last_error, "payload": d.payload})
        return 0
    if not rows:
        print("no deliveries pending or failed" if not args.all else "no deliveries")
        return 0
    print(table([[d.id, d.kind, d.ref or "", d.target, d.state.value, d.attempts,
                  f"{d.next_attempt_at:%Y-%m-%d %H:%M:%S}" if d.next_attempt_at and d.state == "pending" else "",
                  d.last_error or ""] for d in rows],
                ["id", "kind", "about", "target", "state", "tries", "next try (UTC)", "last error"]))
    counts = desk.deliveries.counts()
    print(f"{counts['pending']} pending, {counts['failed']} failed", file=sys.stdout)
    return 0
