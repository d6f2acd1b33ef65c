"""`orderq api [--host 127.0.0.1] [--port 8080]`: the HTTP API for partners, on uvicorn.

Plain HTTP on loopback by default: TLS belongs to a reverse proxy in front (the README has an nginx
block). The listening address is printed once the socket is bound (`--port 0` picks a free port),
then one log line per request on stderr.
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys

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
    p.add_argument("--no-deliver", action="store_true",
                   help="do not run the delivery worker (webhooks, papers, mail) in this process")
    p.set_defaults(func=cmd_api)


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from cli.common import UsageError
    from core.errors import OrderqError

    app = create_app(db_path(args))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    api_log = logging.getLogger("orderq.api")
    api_log.addHandler(handler)
    api_log.setLevel(logging.INFO)
    api_log.propagate = False
    deliver_log = logging.getLogger("orderq.deliver")  # the in-process worker's outcomes, on the same stderr
    deliver_log.addHandler(handler)
    deliver_log.setLevel(logging.INFO)
    deliver_log.propagate = False
    try:
        sock = socket.create_server((args.host, args.port), family=socket.AF_INET6 if ":" in args.host else socket.AF_INET,
                                    reuse_port=False)
    except OSError as e:
        raise UsageError(f"orderq api: cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, server_header=False, **SERVER)
    server = uvicorn.Server(config)
    worker = None
    if not args.no_deliver:  # the outbox's worker beside the server (db.deliver.background)
        from db.deliver.background import BackgroundWorker

        try:
            worker = BackgroundWorker(db_path(args), writer_slot=app.state.stores.writer_slot).start()
        except OrderqError as e:
            sock.close()
            raise UsageError(f"orderq api: the delivery worker cannot start: {e.message}") from None
        print(f"delivering as {worker.name} ({', '.join(worker.kinds)})", file=sys.stderr, flush=True)
    print(f"orderq api listening on http://{host}:{port}", file=sys.stderr, flush=True)
    # uvicorn re-raises the SIGTERM/SIGINT it shut down on once it is done; with the default handlers that
    # kills the process before the worker's send in flight finishes. These take it as "stopped", exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: None)
    try:
        server.run(sockets=[sock])
    finally:
        if worker is not None:
            worker.close()
        app.state.stores.close()
    return 0
