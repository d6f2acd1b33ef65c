"""One SSH session: memory and time to first screen, with the real OpenSSH client (SPEC §5).

- Server: `orderq serve` on 127.0.0.1 (a free port) over a demo database (2,000 orders).
- SSH run: `ssh` on its own pseudo-terminal (120×35), `-o LogLevel=VERBOSE`. The clock starts when
  ssh reports "Authenticated to …" on stderr and stops when the queue screen's footer
  ("Claim next") has arrived on ssh's terminal. RSS is the session's process tree (the app the
  server spawned, and anything under it), read from /proc once the first screen is up.
- Baseline, same run, interleaved: the same TUI (`orderq tui --user alice`) started locally on a
  pseudo-terminal, from spawn to the same footer; its process tree's RSS likewise.
Budget: RSS ≤ 60 MB per session, first screen ≤ 1 s after authentication (ratio = ssh / local).
Wall time suffers on a loaded machine, so the session process's CPU time to its first screen is
reported too (on an idle machine, wall ≈ CPU + the SSH round trips).
Run alone: `python -m bench.bench_ssh`.
"""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("ORDERQ_BENCH_RUNS", "5"))
ORDERS = 2000
MARKER = b"Claim next"
SSH_ENV = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK", "COLUMNS", "LINES", "NO_COLOR", "TMUX")
ORDERQ = str(Path(sys.executable).parent / "orderq")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SSH_ENV}
    env["TERM"] = "xterm-256color"
    return env


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def cpu_s(pid: int) -> float:
    """user + system CPU seconds the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float:
    kids = _children()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_kb(p)
        todo += kids.get(p, [])
    return total / 1024


class OnPty:
    """A process on its own pseudo-terminal; records when a byte pattern first shows up."""

    def __init__(self, argv: list[str], *, stderr_pipe: bool = False) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                     stderr=subprocess.PIPE if stderr_pipe else slave,
                                     env=_env(), cwd=REPO, start_new_session=True)
        os.close(slave)
        self.out = bytearray()
        self.err = bytearray()
        self.seen: dict[bytes, float] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, args=(self.master, self.out), daemon=True).start()
        if stderr_pipe:
            threading.Thread(target=self._pump, args=(self.proc.stderr.fileno(), self.err), daemon=True).start()

    def _pump(self, fd: int, buf: bytearray) -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            with self._lock:
                buf += chunk
                for pat in (MARKER, b"Authenticated to"):
                    if pat not in self.seen and pat in buf:
                        self.seen[pat] = now

    def wait_seen(self, pat: bytes, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while pat not in self.seen:
            if time.monotonic() > deadline or self.proc.poll() is not None and pat not in self.seen:
                raise RuntimeError(f"{pat!r} not seen; output: {bytes(self.out[-500:])!r} {bytes(self.err)!r}")
            time.sleep(0.005)
        return self.seen[pat]

    def finish(self) -> None:
        try:
            os.write(self.master, b"q")
            self.proc.wait(15)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def _setup(work: Path) -> tuple[Path, Path]:
    db = work / "bench.db"
    subprocess.run([ORDERQ, "--db", str(db), "demo", "--orders", str(ORDERS), "--seed", "7"], check=True,
                   capture_output=True, cwd=REPO, env=_env())
    key = work / "alice_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, capture_output=True)
    subprocess.run([ORDERQ, "--db", str(db), "users", "key", "add", "alice", f"{key}.pub"], check=True,
                   capture_output=True, cwd=REPO, env=_env())
    return db, key


def _wait_log(log: Path, pattern: str, after: int = 0, timeout: float = 20) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = list(re.finditer(pattern, log.read_text(errors="replace")))
        if len(m) > after:
            return m[after]
        time.sleep(0.01)
    raise RuntimeError(f"{pattern!r} not in {log}: {log.read_text()}")


def one_ssh(port: int, key: Path, log: Path, nth: int) -> dict:
    s = OnPty(["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=VERBOSE", "-i", str(key),
               "-p", str(port), "alice@127.0.0.1"], stderr_pipe=True)
    try:
        t_auth = s.wait_seen(b"Authenticated to")
        t_frame = s.wait_seen(MARKER)
        pid = int(_wait_log(log, r"session start user=alice .* pid=(\d+)", nth).group(1))
        cpu = cpu_s(pid)
        rss = tree_rss_mb(pid)
        return {"first_s": t_frame - t_auth, "rss_mb": rss, "connect_s": t_auth - s.t0, "cpu_s": cpu}
    finally:
        s.finish()


def one_local(db: Path) -> dict:
    s = OnPty([ORDERQ, "--db", str(db), "tui", "--user", "alice"])
    try:
        t_frame = s.wait_seen(MARKER)
        cpu = cpu_s(s.proc.pid)
        return {"first_s": t_frame - s.t0, "rss_mb": tree_rss_mb(s.proc.pid), "cpu_s": cpu}
    finally:
        s.finish()


def run() -> list[dict]:
    if shutil.which("ssh") is None:
        raise RuntimeError("the OpenSSH client `ssh` is needed for this benchmark")
    with tempfile.TemporaryDirectory(prefix="orderq-bench-ssh-") as tmp:
        work = Path(tmp)
        db, key = _setup(work)
        log = work / "serve.log"
        with open(log, "wb") as logf:
            server = subprocess.Popen([ORDERQ, "--db", str(db), "serve", "--port", "0", "--host-key",
                                       str(work / "host_key")], stdout=subprocess.DEVNULL, stderr=logf,
                                      env=_env(), cwd=REPO, start_new_session=True)
            try:
                port = int(_wait_log(log, r"listening on 127\.0\.0\.1:(\d+)").group(1))
                one_local(db)  # warm the page cache for both
                one_ssh(port, key, log, 0)
                ssh_runs, local_runs = [], []
                for i in range(RUNS):
                    local_runs.append(one_local(db))
                    ssh_runs.append(one_ssh(port, key, log, i + 1))
                server_rss = tree_rss_mb(server.pid)
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(15)
                except subprocess.TimeoutExpired:
                    server.kill()
    s_t = statistics.median(r["first_s"] for r in ssh_runs)
    l_t = statistics.median(r["first_s"] for r in local_runs)
    s_m = statistics.median(r["rss_mb"] for r in ssh_runs)
    l_m = statistics.median(r["rss_mb"] for r in local_runs)
    c_t = statistics.median(r["connect_s"] for r in ssh_runs)
    s_c = statistics.median(r["cpu_s"] for r in ssh_runs)
    l_c = statistics.median(r["cpu_s"] for r in local_runs)
    load = os.getloadavg()[0]
    print(f"bench_ssh: connect → authenticated {c_t * 1000:.0f} ms (median); orderq serve RSS {server_rss:.1f} MB",
          file=sys.stderr)
    return [
        {"what": f"SSH session: authentication → first screen (median of {RUNS}; load avg {load:.1f}, "
                 f"{os.cpu_count()} cores)",
         "measured": f"{s_t * 1000:.0f} ms", "baseline": f"{l_t * 1000:.0f} ms same TUI started locally",
         "ratio": round(s_t / l_t, 2), "budget": "≤ 1 s after authentication", "ok": s_t <= 1.0},
        {"what": "SSH session: RSS of the session's process tree",
         "measured": f"{s_m:.1f} MB", "baseline": f"{l_m:.1f} MB same TUI started locally",
         "ratio": round(s_m / l_m, 2), "budget": "≤ 60 MB per session", "ok": s_m <= 60},
        {"what": "SSH session: CPU time of the session process to first screen (load-independent)",
         "measured": f"{s_c * 1000:.0f} ms", "baseline": f"{l_c * 1000:.0f} ms same TUI started locally",
         "ratio": round(s_c / l_c, 2) if l_c else 1.0, "budget": "≤ 1 s (first screen on an idle machine)",
         "ok": s_c <= 1.0},
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row, ensure_ascii=False))
