"""The delivery worker on a thread of its own, beside a server in the same process (`orderq api`).

WHY a thread and not an asyncio task: the worker's sends block (SMTP, a webhook's POST with its
timeout), and uvicorn's event loop must not wait on them. The thread opens its own Store (an SQLite
connection belongs to the thread that opened it), so it shares nothing with the request handlers but
the database file, exactly as a separate `orderq deliver` would; several of either are safe together
(each delivery is leased to one worker).

`start()` returns once the worker is ready, or raises what stopped it (a rules key the mail sender
needs, say), so the server refuses to start with one line rather than serve without delivering.
`close()` sets the stop event and waits for a send in flight to finish (bounded by the senders'
timeouts). A database error inside the loop (busy past the timeout) is logged and the loop starts
again a second later: a server that answers requests but has silently stopped delivering is the worst
case, because nobody would look.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from db.background_thread import BackgroundThread
from db.connection import WriterSlot
from db.deliver.worker import Worker
from db.store import Store, is_url

log = logging.getLogger("orderq.deliver")
#: after an unexpected error, the loop waits this long before it looks at the outbox again
RESTART_S = 1.0


class BackgroundWorker(BackgroundThread):
    THREAD_NAME = "orderq-deliver"
    CLOSE_TIMEOUT_S = 30.0

    def __init__(self, path: str | Path, *, name: str | None = None, writer_slot: WriterSlot | None = None) -> None:
        super().__init__()
        self.path = path if is_url(path) else Path(path)  # a PostgreSQL URL is no path (Path folds its '//')
        #: the server's queue for the write lock (api.app.Stores): the worker's claims wait their turn
        #: there, rather than sending a request that holds the slot into SQLite's busy handler
        self.writer_slot = writer_slot
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:api"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.kinds: list[str] = []

    def start(self, timeout: float = 30.0) -> "BackgroundWorker":
        super().start()
        if not self._ready.wait(timeout):
            self.close()
            raise RuntimeError(f"the delivery worker did not start within {timeout:g} s")
        if self._error is not None:
            self.thread.join(timeout)
            raise self._error
        return self

    def _run(self) -> None:
        try:
            store = Store.open(self.path)  # the real clock: back-off and leases follow real time
            store.writer_slot = self.writer_slot
        except BaseException as e:  # noqa: BLE001 - handed to start(), which raises it on the caller's thread
            self._error = e
            self._ready.set()
            return
        try:
            try:
                worker = Worker(store, name=self.name)
                self.kinds = sorted(worker.senders)
            except BaseException as e:  # noqa: BLE001 - as above
                self._error = e
                return
            finally:
                self._ready.set()
            while not self.stop.is_set():
                try:
                    worker.run(self.stop)
                except Exception:  # noqa: BLE001 - keep delivering; the log says what happened
                    log.exception("the delivery worker %s failed; starting again in %g s", self.name, RESTART_S)
                    self.stop.wait(RESTART_S)
        finally:
            store.close()
