"""The FastAPI application: one database, one connection per worker thread, refusals as JSON.

- Every refusal is `{"error": {"code", "message", "field"}}` with a 4xx naming the field at fault:
  the service layer's typed errors map to their status here (ERROR_STATUS), pydantic's to 422 (400
  for a body that is not JSON at all), a wrong content type to 415 and an oversized body to 413.
- `Edge` (plain ASGI, so it costs little per request) caps the body, checks the content type, and
  writes the one log line per request: partner, method, path, status, duration, serving pid. No query
  string, no header and no body is logged: they may carry keys, cursors or customers' data.
- Handlers are plain functions: FastAPI runs them in its thread pool, each thread with its own
  SQLite connection (`Stores`). The pool is small (API_THREADS): SQLite has one writer, so 40
  threads (anyio's default) only fight for its lock, sleeping in its busy handler, and for the GIL
  while the holder waits to run; a request waiting in the event loop's queue for a thread costs
  nothing and is served in turn (bench_api: p99).
- The threads (and the delivery worker beside them) take turns at the write lock through one
  WriterSlot, first come first served, instead of SQLite's sleeping busy handler; an order's key
  check (409 for a twin) comes before that wait. Checkpoints run on a thread of their own
  (db/checkpoints.py), not inside whichever request's COMMIT crosses the WAL's threshold.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import threading
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (ClaimLost, Conflict, DomainError, NotFound, OrderqError, PermissionDenied, RulesError,
                         Unauthenticated, ValidationError)
from core.plain_text import printable
from db.checkpoints import Checkpointer
from db.connection import StoreError, WriterSlot
from db.store import Store, is_url

log = logging.getLogger("orderq.api")

#: worker threads for the handlers (2 cores, one writer: more threads only queue on the lock)
API_THREADS = 4

#: FastAPI's OpenTelemetry hooks, off: orderq exports no traces or metrics (its record is the event log
#: and the one log line per request), and with them on every request asks the global providers whether
#: anyone listens, and runs each endpoint inside a span wrapper (bench_api: CPU per order)
TELEMETRY_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}

#: the largest request body (a Shopify order of a few hundred lines is ~200 KB)
MAX_BODY = 256 * 1024
#: the serving process, on each request's log line (`orderq api --workers N` runs several); read once
PID = os.getpid()
#: the longest path a log line shows
PATH_LOGGED = 200
#: refusals of the service layer → HTTP status; the first match in order wins (subclasses first)
ERROR_STATUS: tuple[tuple[type[OrderqError], int], ...] = (
    (Unauthenticated, 401), (PermissionDenied, 403), (NotFound, 404), (Conflict, 409), (ClaimLost, 409),
    (DomainError, 409), (ValidationError, 422), (RulesError, 422), (StoreError, 503),
)


def status_of(e: OrderqError) -> int:
    for cls, status in ERROR_STATUS:
        if isinstance(e, cls):
            return status
    return 400


def error_response(status: int, code: str, message: str, field: str | None, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message, "field": field, **extra}}, status_code=status,
                        headers=headers)


class Stores:
    """One Store (one SQLite connection) per thread: a connection must not run two transactions at once.
    They share one WriterSlot, so the handler threads queue for the write lock in turn instead of
    sleeping in SQLite's busy handler (bench_api: p99)."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.writer_slot = WriterSlot()
        #: a Checkpointer runs beside them (the app's lifespan): their commits need not checkpoint
        self.checkpointed = False
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.path)  # the real clock, always: the API never honours --now (SPEC §6)
            if self.checkpointed:
                store.leave_checkpoints_to_another()
            store.writer_slot = self.writer_slot
            self._local.store = store
            with self._lock:
                self._all.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                s.close()
            self._all.clear()


#: what POST /v1/edi takes: RFC 1767's EDI media types, and plain text / bytes as partners' tools send them
EDI_MEDIA_TYPES = ("application/edi-x12", "application/edifact", "text/plain", "application/octet-stream")


class Edge:
    """Plain ASGI middleware: body cap, content type, and the request's log line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})
        status = [500]

        async def send_logged(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            refusal = None
            if scope["method"] in ("POST", "PUT", "PATCH"):
                refusal, receive = await self._checked_body(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send_logged)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            log.info("partner=%s method=%s path=%s status=%d duration_ms=%.1f pid=%d",
                     scope["state"].get("partner", "-"), scope["method"], _loggable(scope["path"]), status[0],
                     (time.perf_counter() - started) * 1000, PID)

    async def _checked_body(self, scope: dict, receive: Any) -> tuple[JSONResponse | None, Any]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        edi = scope["path"] == "/v1/edi" and ctype in EDI_MEDIA_TYPES  # the interchange itself, not JSON
        if ctype != "application/json" and not ctype.endswith("+json") and not edi:
            return error_response(415, "unsupported_media_type", "send the body as application/json",
                                  "content-type"), receive
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return self._too_large(), receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return self._too_large(), receive
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay

    @staticmethod
    def _too_large() -> JSONResponse:
        return error_response(413, "too_large", f"the body is over the limit of {MAX_BODY // 1024} KiB", "body")


def _loggable(path: str) -> str:
    """The path as one line of plain text: a path is the client's text, and a newline or an escape
    in it must not forge a log line or drive the reader's terminal."""
    text = printable(path[:PATH_LOGGED], multiline=False)
    return text + ("…" if len(path) > PATH_LOGGED else "")


def _field(loc: tuple[Any, ...]) -> str | None:
    """pydantic's location as the service layer names fields: `lines.1.qty` (lines counted from 1)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in parts) or None


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(OrderqError)
    async def refused(request: Request, e: OrderqError) -> JSONResponse:
        return error_response(status_of(e), e.code, e.message, e.field, **({"number": e.number}
                                                                          if getattr(e, "number", None) else {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {"loc": ("body",), "msg": "invalid request", "type": "invalid"}
        loc = tuple(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return error_response(400, "bad_json", "the body is not valid JSON", "body")
        field = _field(loc) or "body"
        if first.get("type") == "extra_forbidden":
            return error_response(422, "unknown_field", f"unknown field {field!r}", field)
        return error_response(422, "invalid", f"{field}: {first.get('msg', 'invalid')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        return error_response(e.status_code, "not_found" if e.status_code == 404 else "http",
                              str(e.detail), "path" if e.status_code in (404, 405) else None)

    @app.exception_handler(Exception)
    async def crashed(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; nothing more is said here (see the server log)", None)


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    """On the serving loop (anyio's limiter is the running loop's): the thread pool's size; and the
    checkpoints, off the requests' path while the server runs (db/checkpoints.py)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
    checkpointer = None
    if not is_url(app.state.stores.path):  # a PostgreSQL server has no WAL of ours to copy back
        if app.state.checkpoints:  # else another worker process of this `orderq api` runs them
            checkpointer = Checkpointer(app.state.stores.path, app.state.stores.writer_slot).start()
        app.state.stores.checkpointed = True
    try:
        yield
    finally:
        if checkpointer is not None:
            checkpointer.close()


def create_app(db_path: str | Path, *, checkpoints: bool = True) -> FastAPI:
    """`checkpoints`: run the checkpoint thread in this process; False in all but one of `orderq api
    --workers N`, whose commits still leave checkpoints to that one (one copier of the WAL is enough)."""
    from api.routes import router

    Store.open(db_path).close()  # refuses a missing or uninitialised database before serving
    app = FastAPI(title="orderq", version="1", lifespan=_serving, telemetry=TELEMETRY_OFF, description="Orders, returns and products for partners. "
                  "Authenticate with `Authorization: Bearer KEY` (`orderq partners add`).")
    app.state.stores = Stores(db_path if is_url(db_path) else Path(db_path))  # a URL is no path (Path folds '//')
    app.state.checkpoints = checkpoints
    install_errors(app)
    app.include_router(router)
    app.add_middleware(Edge)
    return app


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
