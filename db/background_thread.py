"""A daemon thread that a server runs beside its requests (`orderq api`): the WAL checkpointer
(db.checkpoints) and the delivery worker (db.deliver.background). Each loops in `_run` until its
`stop` event is set; `close()` sets it and waits, bounded, for the loop to notice, so a server's
shutdown never hangs on a thread (daemon: a stuck one does not keep the process alive either)."""
from __future__ import annotations

import threading
from typing import Self


class BackgroundThread:
    #: the thread's name, as the logs, `ps -L` and py-spy show it
    THREAD_NAME = "orderq-background"
    #: how long close() waits for the loop to end, by default
    CLOSE_TIMEOUT_S = 10.0

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self.thread.start()
        return self

    def close(self, timeout: float | None = None) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(self.CLOSE_TIMEOUT_S if timeout is None else timeout)
