"""Hosting many real sessions for bench_fanout: each `orderq tui` on its own PTY (pty.fork, so it
has its own session and controlling terminal, as over SSH), one reader thread for every master,
and what /proc says about each process.

Seeing a change on screen is judged from the PTY output alone: the output is cut into the pieces
Textual writes between cursor moves (one drawn line, or part of one), escapes stripped, and a probe
is "shown" at the first piece after its commit that says what the change should make it say.
"""
from __future__ import annotations

import fcntl
import os
import pty
import re
import selectors
import signal
import struct
import sys
import termios
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import REPO

ROWS, COLS = 40, 120
HISTORY_S = 5.0
CUP = re.compile(rb"\x1b\[\d+;\d+H")
ESCAPE = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


@dataclass
class Probe:
    """A change a session should show: `claim` shows `marker` (the claimer's name); `free` (a
    force-release) draws the order's row without the marker (queued again, or already claimed by
    the next rep: a session that coalesces need not draw the state in between)."""

    kind: str
    marker: str
    number: str
    t: float

    def shown_in(self, text: str) -> bool:
        if self.kind == "claim":
            return self.marker in text
        return self.number in text and self.marker not in text


def pieces(data: bytes) -> list[str]:
    return [ESCAPE.sub(b"", p).decode("utf-8", "replace") for p in CUP.split(data)]


@dataclass
class Session:
    kind: str  # queue | order | wallboard | bare
    pid: int
    fd: int
    history: deque = field(default_factory=deque)  # (t, bytes) of the last HISTORY_S
    armed: list[Probe] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)  # id(probe) -> latency s
    out_bytes: int = 0
    last_out: float = 0.0
    alive: bool = True
    terminal: "Terminal | None" = None  # what it shows, when asked for (spawn(..., screen=True))

    # ---- /proc -------------------------------------------------------------------------
    def cpu_s(self) -> float:
        """On-CPU time of every thread (schedstat: nanoseconds, not 10 ms clock ticks)."""
        total = 0
        try:
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                try:
                    with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            pass
        return total / 1e9

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def watching(self) -> bool:
        """Has an inotify instance (the change feed's watcher) rather than polling."""
        try:
            for fd in os.listdir(f"/proc/{self.pid}/fd"):
                try:
                    if os.readlink(f"/proc/{self.pid}/fd/{fd}") == "anon_inode:inotify":
                        return True
                except OSError:
                    pass
        except OSError:
            pass
        return False


class Host:
    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.lock = threading.Lock()
        self.sel = selectors.DefaultSelector()
        self._stop = False
        self._wake_r, self._wake_w = os.pipe()
        self.sel.register(self._wake_r, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def spawn(self, kind: str, argv: list[str], *, screen: bool = False) -> Session:
        env = {k: v for k, v in os.environ.items()
               if k not in ("COLUMNS", "LINES", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "NO_COLOR", "ORDERQ_KEYS")}
        env.update(TERM="xterm-256color", PYTHONPATH=str(REPO))
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (the parent has threads)
            try:
                os.chdir(REPO)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        s = Session(kind, pid, fd, last_out=time.time(), terminal=Terminal() if screen else None)
        with self.lock:
            self.sessions.append(s)
            self.sel.register(fd, selectors.EVENT_READ, s)
        os.write(self._wake_w, b"x")
        return s

    def _read(self) -> None:
        while not self._stop:
            for key, _ in self.sel.select(timeout=0.5):
                s = key.data
                if s is None:
                    os.read(self._wake_r, 4096)
                    continue
                try:
                    data = os.read(s.fd, 65536)
                except OSError:
                    data = b""
                now = time.time()
                with self.lock:
                    if not data:
                        s.alive = False
                        self.sel.unregister(s.fd)
                        continue
                    s.out_bytes += len(data)
                    if s.terminal is not None:
                        s.terminal.feed(data)
                    s.last_out = now
                    s.history.append((now, data))
                    while s.history and s.history[0][0] < now - HISTORY_S:
                        s.history.popleft()
                    if s.armed:
                        self._match(s, now, data)

    @staticmethod
    def _match(s: Session, t: float, data: bytes) -> None:
        texts = pieces(data)
        for p in list(s.armed):
            if t >= p.t and any(p.shown_in(x) for x in texts):
                s.seen[id(p)] = t - p.t
                s.armed.remove(p)

    def arm(self, probe: Probe, kinds: tuple[str, ...]) -> None:
        """Look for the probe in what each session drew since its commit, then in what comes."""
        with self.lock:
            for s in self.sessions:
                if s.kind not in kinds:
                    continue
                s.armed.append(probe)
                for t, data in list(s.history):
                    if t >= probe.t and probe in s.armed:
                        self._match(s, t, data)

    def disarm(self) -> None:
        with self.lock:
            for s in self.sessions:
                s.armed.clear()

    def send(self, s: Session, keys: str) -> None:
        os.write(s.fd, keys.encode())

    def wait_quiet(self, quiet_s: float, deadline_s: float, min_bytes: int = 1) -> bool:
        """Until every session has drawn something and none has drawn for `quiet_s`."""
        end = time.time() + deadline_s
        while time.time() < end:
            now = time.time()
            with self.lock:
                ok = all(s.out_bytes >= min_bytes and now - s.last_out >= quiet_s for s in self.sessions)
            if ok:
                return True
            time.sleep(0.1)
        return False

    def cpu(self) -> dict[int, float]:
        return {s.pid: s.cpu_s() for s in self.sessions}

    def close(self) -> None:
        """Hang up every terminal (SIGHUP, as an SSH drop), then reap; kill what lingers."""
        self._stop = True
        os.write(self._wake_w, b"x")
        self.thread.join(timeout=2)
        for s in self.sessions:
            try:
                os.close(s.fd)
            except OSError:
                pass
        end = time.time() + 15
        left = {s.pid for s in self.sessions}
        while left and time.time() < end:
            for pid in list(left):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    left.discard(pid)
            time.sleep(0.1)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def orderq_argv() -> list[str]:
    exe = Path(sys.executable).parent / "orderq"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]


def host_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals) - idle, sum(vals)


class Terminal:
    """Just enough of a terminal to know what a Textual session shows: cursor moves, text, erase.
    (Textual positions every drawn line with CUP; colours are dropped.)"""

    TOKEN = re.compile(r"\x1b\[(\d*)(?:;(\d*))?H|\x1b\[(\d*)([JK])|\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])|([\r\n])|([^\x1b\r\n]+)")

    def __init__(self, rows: int = ROWS, cols: int = COLS) -> None:
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self._carry = ""

    def feed(self, data: bytes) -> None:
        text = self._carry + data.decode("utf-8", "replace")
        cut = text.rfind("\x1b")
        if cut != -1 and len(text) - cut < 64 and not re.match(r"\x1b\[[0-9;?]*[@-~]", text[cut:]):
            text, self._carry = text[:cut], text[cut:]  # an escape split across reads
        else:
            self._carry = ""
        for m in self.TOKEN.finditer(text):
            if m.group(0).endswith("H") and m.group(0).startswith("\x1b["):
                self.y = max(0, int(m.group(1) or 1) - 1)
                self.x = max(0, int(m.group(2) or 1) - 1)
            elif m.group(4) == "J":
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
            elif m.group(4) == "K":
                if self.y < self.rows:
                    self.grid[self.y][self.x:] = [" "] * (self.cols - self.x)
            elif m.group(5) == "\r":
                self.x = 0
            elif m.group(5) == "\n":
                self.y += 1
            elif m.group(6):
                for ch in m.group(6):
                    if self.y < self.rows and self.x < self.cols:
                        self.grid[self.y][self.x] = ch
                    self.x += 1

    def lines(self) -> list[str]:
        return ["".join(r).rstrip() for r in self.grid]
