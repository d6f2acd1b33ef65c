"""`orderq api [--host 127.0.0.1] [--port 8080]`: the HTTP API for partners, on uvicorn.

Plain HTTP on loopback by default: TLS belongs to a reverse proxy in front (the README has an nginx
block). The listening address is printed once the socket is bound (`--port 0` picks a free port),
then one log line per request on stderr.

`--workers N` (default 1; cli.api_workers) serves from N processes on the one socket
the parent binds: one process's GIL caps it near one core (bench_api). Only the first worker runs the
outbound delivery worker and the checkpoint thread, so there is one of each per `orderq api`.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from cli.common import bounded_int, db_path

#: open connections at once; past it uvicorn answers 503 (SPEC §6: connection counts are capped)
MAX_CONNECTIONS = 256
#: how uvicorn serves, here and for bench_api's bare baseline (bench/_bare_api.py), so that both are the
#: same server. asyncio's loop and h11, named rather than "auto" (which takes uvloop and httptools when
#: installed): tried on 2 shared cores, uvloop + httptools took the bare endpoint from ~320 to ~1,100
#: requests/s but API orders only from ~190 to ~260/s (their CPU is the order's own), so the ratio
#: budget failed (0.19-0.23), and p99 stayed over budget within the noise (bench_api's findings).
SERVER = {"loop": "asyncio", "http": "h11", "access_log": False, "log_level": "warning",
          "limit_concurrency": MAX_CONNECTIONS, "timeout_keep_alive": 5}


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("api", help="serve the HTTP API for partners (OpenAPI at /openapi.json)", parents=[parent])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=bounded_int(0, 65535), default=8080, help="0: any free port (printed)")
    p.add_argument("--workers", type=bounded_int(1, 64), default=1,
                   help="server processes sharing the socket (default 1; more serve more orders a second on a"
                        " host with idle cores)")
    p.add_argument("--no-deliver", action="store_true",
                   help="do not run the delivery worker (webhooks, papers, mail) in this process")
    p.set_defaults(func=cmd_api)


def _log_to_stderr() -> None:
    """The request lines and the delivery worker's outcomes, on stderr (in each worker process too)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    for name in ("orderq.api", "orderq.deliver"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False


def _listen(host: str, port: int) -> socket.socket:
    from cli.common import UsageError

    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                    reuse_port=False)
    except OSError as e:
        raise UsageError(f"orderq api: cannot listen on {host}:{port}: {e.strerror or e}") from None


def _quiet_signals() -> None:
    """uvicorn re-raises the SIGTERM/SIGINT it shut down on once it is done; with the default handlers that
    kills the process before the worker's send in flight finishes. These take it as "stopped", exit 0."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: None)


def serve_one(db: str, sock: socket.socket, *, deliver: bool, checkpoints: bool = True,
              ready: Callable[[dict], None] | None = None) -> None:
    """One server process on `sock`: the app, the delivery worker if `deliver`, uvicorn until signalled.
    Raises OrderqError for a database it cannot serve, UsageError if the delivery worker cannot start."""
    import uvicorn

    from api.app import create_app
    from cli.common import UsageError
    from core.errors import OrderqError

    app = create_app(db, checkpoints=checkpoints)
    server = uvicorn.Server(uvicorn.Config(app, server_header=False, **SERVER))
    worker = None
    try:
        if deliver:  # the outbox's worker beside the server (db.deliver.background)
            from db.deliver.background import BackgroundWorker

            try:
                worker = BackgroundWorker(db, writer_slot=app.state.stores.writer_slot).start()
            except OrderqError as e:
                raise UsageError(f"orderq api: the delivery worker cannot start: {e.message}") from None
        if ready is not None:
            ready({"pid": os.getpid(), "delivering": f"{worker.name} ({', '.join(worker.kinds)})" if worker else None})
        _quiet_signals()
        server.run(sockets=[sock])
    finally:
        if worker is not None:
            worker.close()
        app.state.stores.close()


def _api_worker(index: int, sock: socket.socket, ready: Callable[[dict], None], db: str, deliver: bool) -> None:
    """One of `--workers N` (spawned): the first runs the delivery worker and the checkpoints."""
    from cli.api_workers import WorkerRefused
    from cli.common import UsageError
    from core.errors import OrderqError

    _log_to_stderr()
    try:
        serve_one(db, sock, deliver=deliver and index == 0, checkpoints=index == 0, ready=ready)
    except UsageError as e:
        raise WorkerRefused(str(e)) from None
    except OrderqError as e:
        raise WorkerRefused(f"orderq: {e.message}") from None


def cmd_api(args: argparse.Namespace) -> int:
    from cli import api_workers
    from cli.common import UsageError
    from db.store import Store

    db = str(db_path(args))
    workers = args.workers
    _log_to_stderr()
    if workers > 1:
        Store.open(db).close()  # a missing or uninitialised database: one line here, before any worker starts
    sock = _listen(args.host, args.port)
    host, port = sock.getsockname()[:2]

    def announce(infos: list[dict]) -> None:
        for info in infos:
            if info["delivering"]:
                print(f"delivering as {info['delivering']}", file=sys.stderr, flush=True)
        print(f"orderq api listening on http://{host}:{port}" + (f" ({workers} workers)" if workers > 1 else ""),
              file=sys.stderr, flush=True)

    if workers == 1:
        try:
            serve_one(db, sock, deliver=not args.no_deliver, ready=lambda info: announce([info]))
        except BaseException:
            sock.close()
            raise
        return 0
    try:
        return api_workers.serve(sock, workers, _api_worker, (db, not args.no_deliver), on_ready=announce)
    except api_workers.WorkerRefused as e:
        raise UsageError(str(e)) from None
