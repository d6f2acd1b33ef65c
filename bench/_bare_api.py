"""The baseline of bench_api: a bare FastAPI endpoint that does one INSERT into the same database,
served by uvicorn exactly as `orderq api` serves (cli.api_cmd.SERVER; handlers in the thread pool, one SQLite
connection per thread, BEGIN IMMEDIATE), from as many processes on one socket as `orderq api --workers N`
(cli.api_workers: the same supervisor). Run as `python -m bench._bare_api DB PORT_FILE [WORKERS]`."""
from __future__ import annotations

import json
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from cli.api_cmd import SERVER  # orderq api's own uvicorn settings: loop, HTTP parser, limits

DB = ""  # set in each serving process (serve_bare)
local = threading.local()
app = FastAPI()


def conn() -> sqlite3.Connection:
    c = getattr(local, "conn", None)
    if c is None:
        c = sqlite3.connect(DB, isolation_level=None, timeout=5, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        local.conn = c
    return c


@app.post("/bare", status_code=201)
def bare(body: dict) -> Response:
    c = conn()
    c.execute("BEGIN IMMEDIATE")
    try:
        cur = c.execute("INSERT INTO bench_bare (body) VALUES (?)", (json.dumps(body),))
        c.execute("COMMIT")
    except BaseException:
        c.execute("ROLLBACK")
        raise
    return Response(json.dumps({"id": cur.lastrowid}), status_code=201, media_type="application/json")


def serve_bare(index: int, sock: socket.socket, ready: Callable[[dict], None] | None, db: str) -> None:
    """One serving process (a cli.api_workers target, or the only one)."""
    global DB
    DB = db
    server = uvicorn.Server(uvicorn.Config(app, **SERVER))
    if ready is not None:
        ready({})
    server.run(sockets=[sock])


if __name__ == "__main__":
    from cli.api_workers import serve

    sock = socket.create_server(("127.0.0.1", 0))
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    port = str(sock.getsockname()[1])
    if workers == 1:
        Path(sys.argv[2]).write_text(port)
        serve_bare(0, sock, None, sys.argv[1])
    else:
        sys.exit(serve(sock, workers, serve_bare, (sys.argv[1],), on_ready=lambda _: Path(sys.argv[2]).write_text(port)))
