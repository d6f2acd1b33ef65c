"""The change feed on PostgreSQL (issue 18 §5), against a real server and real processes.

- a NOTIFY from another process wakes a session's feed (the safety look is turned off, so only the
  notification can wake it in time);
- a write transaction sends one notification, however many events it wrote, and a refused one none;
- poll-only (`ORDERQ_FEED=poll`, for pgbouncer in transaction mode) opens no LISTEN connection and
  still sees every change;
- across a real `pg_ctl` stop and start the feed says "reconnecting", comes back by itself, and
  delivers the change made afterwards; the session's own store connection comes back too;
- a command while the server is down is one line and exit 2, in the CLI and in the service layer.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import psycopg
import pytest

from core.errors import OrderqError
from db import events
from db.feed import open_feed
from db.pg import feed as pg_feed
from db.pg.link import CHANNEL
from db.service import Desk
from db.store import Store
from tests.helpers import wait_for
from tests.pg_server import PgServer, find_binary

TIMEOUT = 30


def pg_ctl(server: PgServer, action: str, *args: str) -> None:
    """A real `pg_ctl` on the test server; `start` with the options it was first started with (its
    postmaster.opts: the port, the socket dir), as `restart` does by itself."""
    if action == "start":
        import shlex

        argv = shlex.split((server.data / "postmaster.opts").read_text())
        args = (*args, "-o", shlex.join(a for a in argv[1:] if a not in ("-D", str(server.data))))
    server._run(find_binary("pg_ctl"), action, "-D", str(server.data), "-l", str(server.root / "log"), "-w", *args)


@pytest.fixture
def server_back(pg_server: PgServer) -> AsyncIterator[PgServer]:
    """The session's server, started again after the test whatever the test did to it."""
    yield pg_server
    try:
        pg_ctl(pg_server, "status")
    except RuntimeError:
        pg_ctl(pg_server, "start")


async def _cli(url: str, server: PgServer, *args: str) -> tuple[int, str, str]:
    import os
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "orderq"
    proc = await asyncio.create_subprocess_exec(str(exe), "--db", url, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env={**os.environ, **server.env()})
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


class Follower:
    """A session's feed run in the test's event loop, collecting every event and every state."""

    def __init__(self, store: Store) -> None:
        self.states: list[str] = []
        self.feed = open_feed(store, on_state=self.states.append)
        self.got: list = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for batch in self.feed.batches():
            self.got.extend(batch)

    async def until(self, cond, what: str) -> None:  # noqa: ANN001
        async def wait() -> None:
            while not cond():
                await asyncio.sleep(0.02)
        try:
            await asyncio.wait_for(wait(), TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; states {self.states}, got "
                                 f"{[(e.id, e.action) for e in self.got]}") from None

    async def stop(self) -> None:
        self.feed.stop()
        await asyncio.wait_for(self.task, TIMEOUT)


async def test_a_notify_from_another_process_wakes_the_feed(pg_demo_url: str, pg_server: PgServer, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(pg_feed, "SAFETY_S", 3600.0)  # no safety look: only the NOTIFY can wake it
    store = Store.open(pg_demo_url)
    f = Follower(store)
    await asyncio.wait_for(f.feed.started.wait(), TIMEOUT)
    assert f.feed.state == "listen"
    await asyncio.sleep(0.2)  # the start-up read is done: what follows is woken by the notification alone
    rc, out, err = await _cli(pg_demo_url, pg_server, "claim", "--user", "bob", "--json")
    assert rc == 0, err
    await f.until(lambda: any(e.action == "claim" and e.actor == "bob" for e in f.got), "bob's claim")
    await f.stop()
    store.close()


def test_one_notification_per_transaction_none_for_a_refused_one(pg_demo_url: str) -> None:
    from datetime import UTC, datetime

    listener = psycopg.connect(pg_demo_url, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    store = Store.open(pg_demo_url)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def note(c, text: str) -> int:  # noqa: ANN001
        return events.append(c, at=at, actor="sam", entity="order", entity_id=1, ref="SO-000001", action="note",
                             data={"note": text})

    with store.write() as c:  # one command that writes three events in two appends
        note(c, "one")
        newest = events.append_many(c, [(at.timestamp(), "sam", "order", 1, "SO-000001", "note", events.dumps({}))] * 2)
    with pytest.raises(RuntimeError), store.write() as c:  # a command that fails after writing: rolled back
        note(c, "never")
        raise RuntimeError("refused")
    got = list(listener.notifies(timeout=1.0))
    assert [(n.channel, n.payload) for n in got] == [(CHANNEL, str(newest))]
    assert events.last_id(store.conn) == newest
    store.close()
    listener.close()


async def test_poll_only_opens_no_listen_connection_and_still_sees_changes(pg_demo_url: str, pg_server: PgServer,
                                                                          monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("ORDERQ_FEED", "poll")
    store = Store.open(pg_demo_url)
    f = Follower(store)
    await asyncio.wait_for(f.feed.started.wait(), TIMEOUT)
    assert f.feed.state == "poll"
    rc, _out, err = await _cli(pg_demo_url, pg_server, "claim", "--user", "bob", "--json")
    assert rc == 0, err
    await f.until(lambda: any(e.action == "claim" and e.actor == "bob" for e in f.got), "bob's claim")
    with pg_server.admin() as admin:
        listeners = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orderq feed'"
                                  ).fetchone()[0]
    assert listeners == 0
    await f.stop()
    store.close()


async def test_the_feed_says_reconnecting_comes_back_and_misses_nothing(pg_demo_url: str, server_back: PgServer) -> None:
    store = Store.open(pg_demo_url)
    f = Follower(store)
    await asyncio.wait_for(f.feed.started.wait(), TIMEOUT)
    await asyncio.to_thread(pg_ctl, server_back, "stop", "-m", "fast")
    await f.until(lambda: f.feed.state == "reconnecting", "the feed to say reconnecting")
    await asyncio.to_thread(pg_ctl, server_back, "start")
    rc, out, err = await _cli(pg_demo_url, server_back, "claim", "--user", "bob", "--json")
    assert rc == 0, err
    await f.until(lambda: any(e.action == "claim" and e.actor == "bob" for e in f.got), "the claim made after the restart")
    await f.until(lambda: f.feed.state == "listen", "the feed to listen again")
    assert f.states[-2:] == ["reconnecting", "listen"]
    # the session's own connection came back too: its next command just works
    claimed = Desk.for_user(store, "alice").orders.claim_next()
    assert claimed is not None
    await f.stop()
    store.close()


def test_a_command_while_the_server_is_down_is_one_line_exit_2(pg_demo_url: str, server_back: PgServer, pg_cli) -> None:  # noqa: ANN001
    desk = Desk.open(pg_demo_url, "alice")  # a session that was open before the server went away
    pg_ctl(server_back, "stop", "-m", "fast")
    proc = pg_cli(pg_demo_url, "claim", "--user", "bob", "--json")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "not reachable" in lines[0] and "nothing was written" in lines[0]
    assert server_back.url("x").split("@")[1].split("/")[0] in lines[0]  # names the server, never a password
    with pytest.raises(OrderqError) as refused:  # the open session: a refusal the faces show in one line
        desk.orders.claim_next()
    assert "\n" not in refused.value.message
    pg_ctl(server_back, "start")
    assert desk.orders.claim_next() is not None  # and once the server is back, it just works
    desk.store.close()


def test_the_delivery_workers_wait_wakes_on_a_notify_and_survives_a_restart(pg_demo_url: str,
                                                                            server_back: PgServer) -> None:
    from db.feed import change_signal

    store = Store.open(pg_demo_url)
    signal = change_signal(store)
    stop = threading.Event()
    signal.arm()
    other = Desk.open(pg_demo_url, "bob")
    assert other.orders.claim_next() is not None
    assert signal.wait(TIMEOUT, stop) is True
    pg_ctl(server_back, "restart", "-m", "fast")
    signal.arm()  # finds its connection gone: the wait reconnects and says "look again"
    assert wait_for(lambda: signal.wait(1.0, stop), TIMEOUT, "the worker's wait to come back")
    other.store.close()
    other = Desk.open(pg_demo_url, "bob")
    signal.arm()
    assert other.orders.claim_next() is not None
    assert signal.wait(TIMEOUT, stop) is True
    signal.close()
    other.store.close()
    store.close()


def test_a_command_whose_connection_dies_mid_way_is_refused_rolled_back_and_the_next_one_works(
        pg_demo_url: str, pg_server: PgServer) -> None:
    from db.connection import StoreError

    desk = Desk.open(pg_demo_url, "alice")
    store = desk.store
    before = events.last_id(store.conn)
    pid = store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with pytest.raises(StoreError) as refused, desk.ctx.write() as c:
        c.execute("UPDATE orders SET priority = 'P1' WHERE number = 'SO-000001'")
        with pg_server.admin() as admin:  # the server ends this session, as a failover would
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        c.execute("UPDATE orders SET priority = 'P1' WHERE number = 'SO-000002'")
    assert "\n" not in refused.value.message and "nothing was written" in refused.value.message
    assert events.last_id(store.conn) == before  # a new session answers; nothing of the command stayed
    assert desk.orders.claim_next() is not None
    store.close()
