"""WAL checkpoints on a thread of their own, for a threaded server (`orderq api`).

WHY: SQLite runs its automatic checkpoint inside the COMMIT that takes the WAL past
WAL_AUTOCHECKPOINT pages (db/connection.py): up to 16 MB copied into the database file and two
fsyncs, 30-40 ms here, paid by whichever request commits then, and, with the server's WriterSlot, by
every request queued behind it. An API order writes ~32 WAL pages, so under 16 clients one request in
~125 paid it (bench/bench_api.py, p99). So the server's own connections do not checkpoint
(`PRAGMA wal_autocheckpoint=0`, api.app.Stores); this thread does, every EVERY_S, on a connection of
its own:
- PASSIVE passes copy the bulk beside the writers: they wait for no reader or writer and take no
  lock a writer needs, so commits go on meanwhile;
- but the WAL starts again from its beginning (instead of growing) only when a writer begins after a
  checkpoint that copied everything, which never happens while writers keep committing. So the last
  pass, copying only the few pages written during the bulk, holds the WriterSlot: the process's
  writers wait those few milliseconds once per EVERY_S instead of 30-40 ms once per ~125 orders.
Other processes (sessions, the CLI, `orderq deliver`) keep their automatic checkpoints, as before.
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from db.background_thread import BackgroundThread
from db.connection import StoreError, WriterSlot, connect

log = logging.getLogger("orderq.api")

#: how often the WAL is copied back into the database: at ~250 orders/s, ~8,000 pages a second
#: written, so the WAL stays well under JOURNAL_SIZE_LIMIT between two checkpoints
EVERY_S = 0.5
#: bulk passes go on while the last one found more than this many new pages, at most BULK_PASSES
TAIL_PAGES = 256
BULK_PASSES = 3


class Checkpointer(BackgroundThread):
    THREAD_NAME = "orderq-checkpoint"

    def __init__(self, path: str | Path, writer_slot: WriterSlot, every_s: float = EVERY_S) -> None:
        super().__init__()
        self.path = Path(path)
        self.writer_slot = writer_slot
        self.every_s = every_s

    def _run(self) -> None:
        conn = connect(self.path)
        try:
            while not self.stop.wait(self.every_s):
                try:
                    self.run_once(conn)
                except (sqlite3.Error, StoreError) as e:  # busy past the slot's timeout, a damaged file:
                    log.warning("checkpoint failed: %s", e)  # the requests say so; try again next round
        finally:
            conn.close()

    def run_once(self, conn: sqlite3.Connection) -> bool:
        """One round; True when its last pass copied the whole WAL (so the next write starts it again)."""
        seen = 0
        for _ in range(BULK_PASSES):
            frames, copied = _passive(conn)
            if frames == copied and frames <= seen:
                return True  # nothing new since the last pass (or an empty WAL): no need to hold anyone
            if frames - seen <= TAIL_PAGES:
                break
            seen = frames
        with self.writer_slot.turn():
            frames, copied = _passive(conn)
        return frames == copied


def _passive(conn: sqlite3.Connection) -> tuple[int, int]:
    """(pages in the WAL, pages of it now in the database)."""
    _busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(frames), int(copied)
