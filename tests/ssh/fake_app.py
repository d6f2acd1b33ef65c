"""A stand-in session command for the server's own tests: it reports what a session process sees.

Prints `READY ...` (user, screen, TERM, size, whether any SSH_* variable leaked, whether the PTY is
its controlling tty), `SIZE CxR` on every SIGWINCH, `KEY ...` for each input chunk; `q` quits,
`w` records "wallboard" as its screen in its sessions row (as the app does), `t` starts printing
`TICK` ten times a second, `x` exits 3. SIGHUP and SIGTERM
leave a marker file in $ORDERQ_TEST_MARKERS so tests can tell how it ended.
"""
from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import sys
import termios
import tty

user = sys.argv[1]
screen = sys.argv[2] if len(sys.argv) > 2 else "-"


def say(text: str) -> None:
    try:
        os.write(1, (text + "\r\n").encode())
    except OSError:
        pass


def size() -> str:
    rows, cols = struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))[:2]
    return f"{cols}x{rows}"


def mark(name: str) -> None:
    d = os.environ.get("ORDERQ_TEST_MARKERS")
    if d:
        with open(os.path.join(d, f"{name}-{user}-{os.getpid()}"), "w") as f:
            f.write(name)


def on_hup(*_: object) -> None:
    mark("hup")
    os._exit(0)


def on_term(*_: object) -> None:
    mark("term")
    say("BYE")
    os._exit(0)


from db.service import Desk  # noqa: E402

desk = Desk.open(os.environ["ORDERQ_DB"], user)
session_id = desk.sessions.start(screen)  # the app's own row: this pid, its screen
signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGWINCH, lambda *_: say(f"SIZE {size()}"))
leak = any(k.startswith("SSH_") for k in os.environ)
ctty = os.getsid(0) == os.getpid() and os.tcgetpgrp(0) == os.getpgrp()
say(f"READY user={user} screen={screen} term={os.environ.get('TERM')} size={size()} ssh_env={leak} "
    f"ctty={ctty} pid={os.getpid()} remote={os.environ.get('ORDERQ_REMOTE')}")
tty.setraw(0)
while True:
    r, _, _ = select.select([0], [], [])
    try:
        data = os.read(0, 1024)
    except OSError:
        data = b""
    if not data:
        mark("eof")
        sys.exit(0)
    if b"q" in data:
        say("QUIT")
        sys.exit(0)
    if b"x" in data:
        sys.exit(3)
    if b"t" in data:  # a live screen: output all the time, no keys
        import threading
        import time

        def tick() -> None:
            while True:
                say("TICK")
                time.sleep(0.1)

        threading.Thread(target=tick, daemon=True).start()
    if b"w" in data:
        desk.sessions.beat(session_id, "wallboard")
        say("SCREEN wallboard")
        continue
    say(f"KEY {data!r}")
