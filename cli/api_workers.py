"""Several server processes on one listening socket: `orderq api --workers N`, and bench_api's bare baseline.

WHY: one process serves through one GIL, and ~3.5 ms of Python per order caps it near one core's worth
of orders (bench_api's findings); the write itself is short and SQLite's lock (with the busy handling)
serialises writers across processes. So the parent binds the socket, and N spawned worker processes
(spawn, not fork: the parent may already run threads, e.g. multiprocessing's fd sharer) each build the
app and accept on that same socket; the kernel hands each connection to one of them.

The parent only supervises:
- a worker reports ready (or its one-line refusal) over a pipe; the parent says "listening" once all
  are ready, and if one dies or refuses at start it stops the others and exits non-zero with that line;
- SIGTERM/SIGINT are forwarded once to every worker (they sit in their own process group, so a
  terminal's Ctrl-C reaches the parent alone) and the parent exits 0 once they have shut down cleanly;
- a worker that dies while serving is not restarted silently: the others are stopped, one line says
  which worker died, and the exit code is non-zero;
- a worker whose parent disappears (SIGKILL) stops itself rather than serve on unsupervised.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

#: seconds a worker has to stop after the forwarded signal before it is killed
STOP_TIMEOUT_S = 15.0
#: seconds all workers have to build their app and report ready
START_TIMEOUT_S = 120.0


class WorkerRefused(Exception):
    """A worker's one-line refusal at start, raised by its target; the parent prints it and exits 2."""


#: a worker's entry: (its index, the shared socket, a callback to report ready with a dict) -> None; it
#: serves until signalled. Must be a module-level function (spawn pickles it by name).
Target = Callable[[int, socket.socket, Callable[[dict], None]], None]


def _worker(target: Target, index: int, sock: socket.socket, conn: multiprocessing.connection.Connection,
            args: tuple[Any, ...]) -> None:
    os.setpgrp()  # the terminal's Ctrl-C goes to the parent, which forwards it once
    parent = multiprocessing.parent_process()
    if parent is not None:
        def orphaned() -> None:
            parent.join()  # returns when the parent is gone (its sentinel closes)
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=orphaned, name="orderq-parent-watch", daemon=True).start()
    try:
        target(index, sock, lambda info: conn.send(("ready", info)), *args)
    except WorkerRefused as e:
        conn.send(("refused", str(e)))
        sys.exit(2)


def serve(sock: socket.socket, workers: int, target: Target, args: tuple[Any, ...] = (),
          on_ready: Callable[[list[dict]], None] | None = None) -> int:
    """Run `workers` processes of `target` on `sock` until signalled; the exit code for the command.
    Raises WorkerRefused with a worker's refusal at start (after stopping the others)."""
    ctx = multiprocessing.get_context("spawn")
    procs: list[multiprocessing.process.BaseProcess] = []
    pipes: list[multiprocessing.connection.Connection] = []
    for i in range(workers):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(target, i, sock, send, args), name=f"orderq-api-{i}")
        p.start()
        send.close()
        procs.append(p)
        pipes.append(recv)
    sock.close()  # the workers hold it now
    stopping = threading.Event()

    def forward(signum: int, _frame: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        for p in procs:
            if p.pid is not None and p.exitcode is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    try:
        infos = _await_ready(procs, pipes, stopping)
        if infos is not None and on_ready is not None:
            on_ready(infos)
        while not stopping.is_set():
            dead = [p for p in procs if p.exitcode is not None]
            if dead:
                forward(signal.SIGTERM, None)
                print(f"orderq api: worker {dead[0].pid} exited with code {dead[0].exitcode} while serving; "
                      "the other workers are stopped", file=sys.stderr, flush=True)
                _reap(procs)
                return 1
            multiprocessing.connection.wait([p.sentinel for p in procs])
        return _reap(procs)
    finally:
        _reap(procs)
        for c in pipes:
            c.close()


def _await_ready(procs: list, pipes: list, stopping: threading.Event) -> list[dict] | None:
    """Every worker's ready report, in order; None if a signal came first. Raises WorkerRefused."""
    infos: dict[int, dict] = {}
    waiting = dict(enumerate(pipes))
    deadline = time.monotonic() + START_TIMEOUT_S
    while waiting and not stopping.is_set():
        by = {c: i for i, c in waiting.items()}
        sentinels = {procs[i].sentinel: i for i in waiting}
        got = multiprocessing.connection.wait([*by, *sentinels], timeout=1.0)
        if not got and time.monotonic() > deadline:
            _stop(procs)
            raise WorkerRefused("orderq api: the workers did not start in time")
        for ready in got:
            i = by.get(ready, sentinels.get(ready))
            if i not in waiting:
                continue
            msg = None
            if pipes[i].poll():  # a refusal is sent before the worker exits: read it first
                try:
                    msg = pipes[i].recv()
                except EOFError:
                    msg = None
            elif ready in by:
                continue  # closed with nothing sent: its sentinel says how it ended
            if msg is not None and msg[0] == "ready":
                infos[i] = msg[1]
                del waiting[i]
                continue
            _stop(procs)
            if msg is not None and msg[0] == "refused":
                raise WorkerRefused(msg[1])
            procs[i].join()
            raise WorkerRefused(f"orderq api: worker {procs[i].pid} exited with code {procs[i].exitcode} at start")
    return None if waiting else [infos[i] for i in sorted(infos)]


def _stop(procs: list) -> None:
    for p in procs:
        if p.exitcode is None and p.pid is not None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    _reap(procs)


def _reap(procs: list) -> int:
    """Wait for every worker (killing one that outstays STOP_TIMEOUT_S); 0 if all stopped cleanly."""
    code = 0
    for p in procs:
        p.join(STOP_TIMEOUT_S)
        if p.exitcode is None:
            p.kill()
            p.join()
        if p.exitcode not in (0, -signal.SIGTERM):
            code = 1
    return code
