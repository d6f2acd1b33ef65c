"""`orderq serve`: the embedded SSH server (the server itself lives in tui.ssh_server)."""
from __future__ import annotations

import argparse
import importlib
import logging
import math
from pathlib import Path

from core.errors import ValidationError
from db import outputs
from db.store import is_url
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
    p.add_argument("--max-pending-logins", type=int, default=64, metavar="N",
                   help="connections still logging in at once; more are closed at once (default 64)")
    p.add_argument("--max-pending-logins-per-address", type=int, default=16, metavar="N",
                   help="the same, from one remote address (default 16)")
    p.add_argument("--idle-timeout", type=float, default=1800, metavar="S",
                   help="seconds without a key press before a session is closed; 0 = never (default 1800; "
                        "the wallboard is exempt)")
    p.add_argument("--login-timeout", type=float, default=30, metavar="S",
                   help="seconds a client has to authenticate, and a logged-in connection to open a "
                        "session (default 30)")
    # the session command, for tests and benchmarks: a template with {user} {screen} {db}
    p.add_argument("--command", default=None, help=argparse.SUPPRESS)
    p.add_argument("--hangup-grace", type=float, default=3.0, help=argparse.SUPPRESS)
    p.add_argument("--shutdown-grace", type=float, default=4.0, help=argparse.SUPPRESS)
    # SSH keepalive: a client silent this long is probed, and dropped after 2 unanswered probes
    p.add_argument("--keepalive", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)


#: every numeric flag: (name, smallest, largest, unit, whether 0 means "off"): ranges a server runs with
LIMITS = (
    ("port", 0, 65535, "", False),
    ("max_sessions", 1, 10000, "", False),
    ("max_pending_logins", 1, 10000, "", False),
    ("max_pending_logins_per_address", 1, 10000, "", False),
    ("idle_timeout", 1, 7 * 24 * 3600, " seconds", True),
    ("login_timeout", 1, 3600, " seconds", False),
    ("hangup_grace", 0.1, 60, " seconds", False),
    ("shutdown_grace", 0.1, 60, " seconds", False),
    ("keepalive", 0.1, 60, " seconds", False),
)


def check_limits(args: argparse.Namespace) -> None:
    """One line for a flag out of range: argparse's float() takes nan, inf and negatives."""
    for name, lo, hi, unit, zero_is_off in LIMITS:
        value = getattr(args, name)
        if zero_is_off and value == 0:
            continue
        if not (math.isfinite(value) and lo <= value <= hi):
            flag = "--" + name.replace("_", "-")
            off = "0 (off) or " if zero_is_off else ""
            raise ValidationError(f"{flag} must be {off}between {lo:g} and {hi:g}{unit}", field=name)


def cmd_serve(args: argparse.Namespace) -> int:
    check_limits(args)
    target = db_path(args)
    if args.host_key:  # generated there when missing: never over the database's own files
        outputs.not_data(args.host_key, flag="--host-key", database=None if is_url(target) else target)
    server = importlib.import_module(SERVER_MODULE)
    logging.getLogger("orderq.ssh").setLevel(logging.INFO)
    config = server.ServeConfig(
        db=target if is_url(target) else Path(target),  # a URL is no path: Path() folds its //
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
        max_pending_logins=args.max_pending_logins,
        max_pending_logins_per_address=args.max_pending_logins_per_address,
    )
    return server.serve(config)
