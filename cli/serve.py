"""`orderq serve`: the embedded SSH server (the server itself lives in tui.ssh_server)."""
from __future__ import annotations

import argparse
import importlib
import logging
from pathlib import Path

from core.errors import ValidationError
from db import outputs
from cli.common import db_path

#: the CLI and the TUI are independent front ends (import-linter): the CLI starts the server by name
SERVER_MODULE = "tui.ssh_server"


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", help="serve the app over SSH (public-key auth, one PTY per session)",
                       parents=[parent])
    p.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=2222, metavar="N", help="port (default 2222; 0 picks a free one)")
    p.add_argument("--host-key", default=None, metavar="FILE",
                   help="host key file, generated on first start (default: host_key_ed25519 beside the database)")
    p.add_argument("--max-sessions", type=int, default=50, metavar="N", help="sessions at once (default 50)")
    p.add_argument("--idle-timeout", type=float, default=1800, metavar="S",
                   help="seconds without a key press before a session is closed; 0 = never (default 1800; "
                        "the wallboard is exempt)")
    p.add_argument("--login-timeout", type=float, default=30, metavar="S",
                   help="seconds a client has to authenticate (default 30)")
    # the session command, for tests and benchmarks: a template with {user} {screen} {db}
    p.add_argument("--command", default=None, help=argparse.SUPPRESS)
    p.add_argument("--hangup-grace", type=float, default=3.0, help=argparse.SUPPRESS)
    p.add_argument("--shutdown-grace", type=float, default=4.0, help=argparse.SUPPRESS)
    # SSH keepalive interval: a client whose network dropped is noticed after ~3 unanswered probes
    p.add_argument("--keepalive", type=float, default=15.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ValidationError("--port must be between 0 and 65535", field="port")
    if args.max_sessions < 1:
        raise ValidationError("--max-sessions must be at least 1", field="max_sessions")
    if args.idle_timeout < 0 or args.login_timeout < 0:
        raise ValidationError("timeouts must be 0 (off) or more seconds", field="timeout")
    if args.host_key:  # generated there when missing: never over the database's own files
        outputs.not_data(args.host_key, flag="--host-key", database=db_path(args))
    server = importlib.import_module(SERVER_MODULE)
    logging.getLogger("orderq.ssh").setLevel(logging.INFO)
    config = server.ServeConfig(
        db=Path(db_path(args)),
        host=args.host,
        port=args.port,
        host_key=Path(args.host_key) if args.host_key else None,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        login_timeout=args.login_timeout,
        command=args.command,
        hangup_grace=args.hangup_grace,
        shutdown_grace=args.shutdown_grace,
        keepalive=args.keepalive,
    )
    return server.serve(config)
