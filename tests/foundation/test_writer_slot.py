"""The write lock's queue inside one process (db.connection.WriterSlot) and the checkpoints taken off
the writers' path (db.checkpoints), on real WAL files and real threads."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from db.checkpoints import Checkpointer
from db.connection import StoreError, WriterSlot, connect, write_tx
from tests.helpers import wait_for
from tests.conftest import connect_db


def _db(tmp_path: Path) -> Path:
    p = tmp_path / "slot.db"
    c = connect(p)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL)")
    c.close()
    return p


def _rows(p: Path) -> list[str]:
    c = connect_db(p)
    try:
        return [r[0] for r in c.execute("SELECT who FROM t ORDER BY id")]
    finally:
        c.close()


def test_writers_queued_at_the_slot_write_in_the_order_they_came(tmp_path: Path) -> None:
    """Each thread has its own connection, as the API's handler threads do; while one holds the slot
    the others queue, and each is handed the lock in turn (no busy-handler lottery)."""
    p = _db(tmp_path)
    slot = WriterSlot()
    errors: list[BaseException] = []

    def write(who: str) -> None:
        c = connect(p)
        try:
            with write_tx(c, slot):
                c.execute("INSERT INTO t (who) VALUES (?)", (who,))
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            errors.append(e)
        finally:
            c.close()

    holder = connect(p)
    with write_tx(holder, slot):
        holder.execute("INSERT INTO t (who) VALUES ('first')")
        threads = []
        for i, who in enumerate(("second", "third", "fourth"), start=1):
            t = threading.Thread(target=write, args=(who,))
            t.start()
            threads.append(t)
            wait_for(lambda i=i: len(slot._waiters) == i, what=f"{who} to queue at the slot")
    for t in threads:
        t.join(timeout=30)
    holder.close()
    assert errors == []
    assert _rows(p) == ["first", "second", "third", "fourth"]


def test_a_writer_that_waits_too_long_for_the_slot_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    p = _db(tmp_path)
    slot = WriterSlot(timeout_s=0.2)
    got: list[BaseException] = []

    def write() -> None:
        c = connect(p)
        try:
            with write_tx(c, slot):
                c.execute("INSERT INTO t (who) VALUES ('late')")
        except StoreError as e:
            got.append(e)
        finally:
            c.close()

    with slot.turn():
        t = threading.Thread(target=write)
        t.start()
        t.join(timeout=30)
    assert len(got) == 1 and "busy" in str(got[0]) and "nothing was written" in str(got[0])
    assert _rows(p) == []
    write()  # the slot is free again
    assert _rows(p) == ["late"]


def test_a_thread_holding_its_turn_is_not_made_to_wait_for_itself(tmp_path: Path) -> None:
    """One command in steps (an Idempotency-Key's reservation, then its order) takes one turn."""
    p = _db(tmp_path)
    slot = WriterSlot(timeout_s=0.5)
    c = connect(p)
    with slot.turn():
        for who in ("reservation", "order"):
            with write_tx(c, slot):
                c.execute("INSERT INTO t (who) VALUES (?)", (who,))
    c.close()
    assert _rows(p) == ["reservation", "order"]
    assert slot._owner is None


def test_the_checkpointer_lets_the_wal_start_again_under_a_steady_stream_of_writes(tmp_path: Path) -> None:
    """The server's connections do not checkpoint; against a writer that never pauses, a plain
    PASSIVE checkpoint never catches up and the WAL file grows without end. The checkpointer's last
    pass holds the slot, so the next write starts the WAL again from its beginning: the file stops
    growing."""
    p = _db(tmp_path)
    wal = Path(f"{p}-wal")
    slot = WriterSlot()
    stop = threading.Event()
    commits = [0]
    until: list[int | None] = [None]  # then the writer stops by itself, at a known point

    def writer() -> None:
        c = connect(p)
        c.execute("PRAGMA wal_autocheckpoint=0")
        try:
            while not stop.is_set() and (until[0] is None or commits[0] < until[0]):
                with write_tx(c, slot):
                    c.execute("INSERT INTO t (who) VALUES (?)", ("x" * 3000,))
                commits[0] += 1
        finally:
            c.close()

    t = threading.Thread(target=writer)
    t.start()
    look = connect(p)
    look.execute("PRAGMA wal_autocheckpoint=0")
    try:
        wait_for(lambda: commits[0] >= 300, timeout=60, what="300 commits")
        assert Checkpointer(p, slot).run_once(look) is True
        with slot.turn():
            size = wal.stat().st_size  # 300 pages and more: 20 more commits fit in it from its start
            until[0] = commits[0] + 20
        t.join(timeout=60)
        assert commits[0] == until[0]
        assert wal.stat().st_size == size  # read while `look` is open: the last close removes the WAL
    finally:
        stop.set()
        t.join(timeout=30)
        look.close()


def test_the_checkpointer_outlives_a_round_that_could_not_get_its_turn(tmp_path: Path, caplog) -> None:  # noqa: ANN001
    """A request holding the slot past its timeout (another process held the lock) makes one round
    fail; the thread logs it and goes on, or the WAL would grow from then on."""
    p = _db(tmp_path)
    slot = WriterSlot(timeout_s=0.05)
    c = connect(p)
    c.execute("PRAGMA wal_autocheckpoint=0")
    checkpointer = Checkpointer(p, slot, every_s=0.01)
    try:
        with slot.turn():
            for _ in range(3):
                with write_tx(c, slot):
                    c.execute("INSERT INTO t (who) VALUES ('x')")
            checkpointer.start()
            wait_for(lambda: "checkpoint failed" in caplog.text, what="a round to time out")
        assert checkpointer.thread.is_alive()
    finally:
        checkpointer.close()
        c.close()

