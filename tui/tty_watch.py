"""Noticing that a session's terminal went away (a hung-up or closed stdin: some SSH drops send no SIGHUP),
without waking for every key."""
from __future__ import annotations

import os
import select

#: the terminal watch blocks on a hang-up (poll with no input events: no wake-ups for keys); this
#: is only how often it also checks that stdin is still a terminal (issue 14: idle costs)
TTY_CHECK_S = 30.0


def tty_gone(fd: int, timeout_s: float) -> str | None:
    """Wait up to timeout_s for the terminal on fd to go away; why it went, or None if it is still
    there. Polls for no events, so input never wakes it: only a hang-up, an error or a closed fd."""
    try:
        p = select.poll()
        p.register(fd, 0)
        for _fd, ev in p.poll(timeout_s * 1000):
            if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return "tty hang-up"
        if not os.isatty(fd):
            os.fstat(fd)
    except (OSError, ValueError):
        return "tty gone"
    return None
