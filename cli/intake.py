"""`orderq import FILE` and `orderq intake --watch DIR` (the drop folder)."""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from db.importer import FORMATS, ImportSummary
from cli.common import bounded_float, bounded_int, emit_json, operator_desk, own_drawing

#: the longest a dropped file must stay unchanged before it is read
MAX_SETTLE_S = 3600


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", help="bulk intake of a file (online-retail, northwind, csv, jsonl, x12, edifact)", parents=[parent])
    p.add_argument("file", help="the file, or the Northwind folder")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--rejects", help="write rejected rows here (CSV: row, reason, detail, fields); a new file or an "
                                     "earlier rejects file, never the database or the input; "
                                     "default ./<file name>.rejects.csv when there are rejects")
    p.add_argument("--strict", action="store_true", help="any rejected row refuses the whole file; nothing is written")
    p.add_argument("--history", action="store_true",
                   help="the file is a record of completed sales: each order is imported shipped on its own date "
                        "(never queued), each cancellation a return of it; for exports of past sales")
    p.add_argument("--user", help="acting user (supervisor or admin); default: the operator at the shell")
    p.add_argument("--json", action="store_true")
    p.add_argument("--chunk", type=bounded_int(1, 1_000_000), default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import)

    w = sub.add_parser("intake", help="watch a drop folder and import each file dropped there", parents=[parent])
    w.add_argument("--watch", required=True, metavar="DIR",
                   help="the drop folder (its own folder, never the one holding the database); "
                        "takes .csv, .jsonl, .ndjson files, gzipped or not")
    w.add_argument("--format", choices=FORMATS, default="auto")
    w.add_argument("--settle", type=bounded_float(0, MAX_SETTLE_S), default=1.0,
                   help="seconds a file's size and mtime must stay unchanged before it is read (default 1)")
    w.add_argument("--once", action="store_true", help="import what is there (once settled), then exit")
    w.add_argument("--user")
    w.add_argument("--json", action="store_true", help="one JSON line per file handled")
    w.set_defaults(func=cmd_intake)


def default_rejects(file: str) -> Path:
    name = Path(file.rstrip("/")).name
    for suffix in (".gz", ".csv", ".jsonl", ".ndjson"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return Path.cwd() / f"{name}.rejects.csv"


def _progress_bar():  # noqa: ANN202 - (callback, stop)
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                   transient=True, console=Console(file=own_drawing(sys.stdout)))
    task = bar.add_task("import", total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    return update, bar.stop


def print_summary(s: ImportSummary) -> None:
    j = s.as_json()
    print(f"{j['file']} ({j['format']}{', history' if j['history'] else ''}): {j['rows_read']:,} rows read "
          f"in {j['seconds']} s")
    print(f"  orders {j['orders']:,} ({j['straight_through']:,} straight through, {j['queued_for_rep']:,} for a rep; "
          + ", ".join(f"{k} {v:,}" for k, v in j["by_state"].items()) + f"), total {j['order_total']}")
    print(f"  lines {j['lines']:,}, charges {j['charges']:,}; returns {j['returns']:,} "
          f"({j['return_lines']:,} lines, refunds {j['refund_total']})")
    print(f"  customers created {j['customers_created']:,}, products created {j['products_created']:,}; "
          f"already imported: {j['already_imported_orders']:,} orders ({j['already_imported_rows']:,} rows)")
    print(f"  rejects {j['rejects']:,}" + (": " + ", ".join(f"{k} {v:,}" for k, v in j["rejects_by_reason"].items())
                                          if j["rejects"] else "")
          + (f" -> {j['rejects_file']}" if j["rejects_file"] else ""))
    print("  every row accounted for" if j["conserved"] else "  WARNING: rows do not add up")


def cmd_import(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    update, stop = _progress_bar() if not args.json else (None, lambda: None)
    try:
        rejects = args.rejects or default_rejects(args.file)  # as typed: a trailing "/" names a folder
        kw = {"chunk": args.chunk} if args.chunk else {}
        s = desk.intake.import_file(args.file, fmt=args.format, rejects=rejects, strict=args.strict,
                                    progress=update, history=args.history, **kw)
    finally:
        stop()
        desk.store.close()
    if not isinstance(s, ImportSummary):
        return print_edi_summary(s, as_json=args.json)
    if args.json:
        emit_json(s.as_json())
    else:
        print_summary(s)
    return 0


def print_edi_summary(s, *, as_json: bool) -> int:  # noqa: ANN001 - db.service.edi_intake.EdiSummary
    """An EDI file's outcome; exit 2 (one line on stderr) when no message became an order."""
    j = s.as_json()
    if not s.orders and s.rejected:
        print(f"orderq: {s.file}: every message rejected: {s.rejected[0]}"
              + (f" (and {len(s.rejected) - 1} more)" if len(s.rejected) > 1 else "")
              + f"; the acknowledgment saying so is {', '.join(s.acks)}", file=sys.stderr)
        return 2
    if as_json:
        emit_json(j)
        return 0
    print(f"{j['file']} ({j['format']}): {j['interchanges']} interchange(s), {j['messages']} message(s) "
          f"in {j['seconds']} s")
    print(f"  orders {j['orders']:,} ({j['straight_through']:,} straight through, {j['queued_for_rep']:,} for a rep; "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(j["by_state"].items())) + ")")
    for o in s.orders[:50]:
        print(f"    {o['number']} PO {o['po_number']}: {o['state']}" + (f" ({o['queue_reason']})" if o["queue_reason"] else ""))
    for r in s.rejected:
        print(f"  rejected {r}")
    for a in s.acks:
        print(f"  acknowledgment -> {a}")
    return 0


def cmd_intake(args: argparse.Namespace) -> int:
    from db.importer.dropfolder import DropFolder

    desk = operator_desk(args)

    def report(name: str, outcome: str, detail: dict) -> None:
        if args.json:
            emit_json({"file": name, "outcome": outcome, **detail})
        elif outcome == "done":
            print(f"{name}: done: {detail['orders']:,} orders ({detail['straight_through']:,} straight through), "
                  f"{detail['returns']:,} returns, {detail['rejects']:,} rejects, "
                  f"{detail['already_imported_orders']:,} already imported -> {detail['moved_to']}", flush=True)
        else:
            print(f"{name}: failed: {detail.get('reason')} -> {detail.get('moved_to')}", flush=True)
        sys.stdout.flush()

    folder = DropFolder(desk.intake, Path(args.watch), fmt=args.format, settle=args.settle, on_result=report)

    def _stop(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt  # an import in progress rolls back its open chunk; the file stays to be retried

    signal.signal(signal.SIGTERM, _stop)
    try:
        if args.once:
            folder.run_once()
        else:
            asyncio.run(folder.watch())
    except KeyboardInterrupt:
        pass
    finally:
        desk.store.close()
    return 0
