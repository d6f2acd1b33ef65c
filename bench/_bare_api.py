"""The baseline of bench_api: a bare FastAPI endpoint that does one INSERT into the same database,
served by uvicorn exactly as `orderq api` serves (cli.api_cmd.SERVER; one process, handlers in the thread pool, one
SQLite connection per thread, BEGIN IMMEDIATE). Run as `python -m bench._bare_api DB PORT_FILE`."""
from __future__ import annotations

import json
import socket
import sqlite3
import sys
import threading
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from cli.api_cmd import SERVER  # orderq api's own uvicorn settings: loop, HTTP parser, limits

DB = sys.argv[1]
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


if __name__ == "__main__":
    sock = socket.create_server(("127.0.0.1", 0))
    Path(sys.argv[2]).write_text(str(sock.getsockname()[1]))
    uvicorn.Server(uvicorn.Config(app, **SERVER)).run(sockets=[sock])
