"""The terminal goes away without a SIGHUP (NOTES.md "EOF spin"): the session notices, gives its
claims back and exits within 5 s instead of spinning."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import connect_db, run_cli
from tests.helpers import wait_for
from tests.tui_queue.conftest import NOW_ISO

REPO = Path(__file__).resolve().parents[2]


def drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except (BlockingIOError, OSError):
        pass


def test_lost_terminal_without_sighup_gives_back_and_exits(queue_db: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
    os.set_blocking(master, False)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "SSH_CONNECTION", "SSH_TTY",
                                                               "SSH_CLIENT", "ORDERQ_KEYS")}
    env["TERM"] = "xterm-256color"
    exe = Path(sys.executable).parent / "orderq"
    # a new session but NOT this pty as its controlling terminal: closing the master sends no SIGHUP
    proc = subprocess.Popen([str(exe), "--db", str(queue_db), "--now", NOW_ISO, "tui", "--user", "alice"],
                            stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env, start_new_session=True)
    os.close(slave)
    try:
        def sessions() -> int:
            drain(master)
            c = connect_db(queue_db)
            try:
                return c.execute("SELECT COUNT(*) FROM sessions WHERE \"user\" = 'alice'").fetchone()[0]
            finally:
                c.close()

        wait_for(lambda: sessions() == 1, what="the session row")

        def mine() -> list[dict]:
            drain(master)
            out = run_cli("--db", str(queue_db), "--now", NOW_ISO, "order", "list", "--mine", "--user", "alice",
                          "--json").stdout
            return [json.loads(x) for x in out.splitlines() if x.strip()]

        before = {o["number"] for o in mine()}  # the demo desk may already have alice on an order
        os.write(master, b"c")
        wait_for(lambda: len(mine()) == len(before) + 1, what="the claim")
        number = next(o["number"] for o in mine() if o["number"] not in before)
    finally:
        os.close(master)
    t0 = time.monotonic()
    try:
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert time.monotonic() - t0 < 5
    o = json.loads(run_cli("--db", str(queue_db), "--now", NOW_ISO, "order", "show", number, "--json", check=True).stdout)
    assert (o["state"], o["claimed_by"]) == ("queued", None)
    c = connect_db(queue_db)
    assert c.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    c.close()
