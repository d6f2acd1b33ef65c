"""One inotify watch on a folder, read without a thread: the change feed's waker (db.feed).

Linux's inotify through ctypes: `inotify_init1` gives a file descriptor the event loop can wait on
(`loop.add_reader`), so a session costs nothing while nothing is written. Each instance counts
against `fs.inotify.max_user_instances` (128 per user here): past that `DirWatch` raises OSError and
the feed polls instead.
"""
from __future__ import annotations

import ctypes
import errno
import os
import struct
from pathlib import Path

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE
_HEAD = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)
_libc = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


class DirWatch:
    """Writes to some names in one folder (not recursive)."""

    def __init__(self, folder: Path, names: set[str]) -> None:
        self.names = {n.encode() for n in names}
        libc = _lib()
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, f"inotify_init1: {os.strerror(e)}")
        if libc.inotify_add_watch(fd, os.fsencode(str(folder)), MASK) < 0:
            e = ctypes.get_errno()
            os.close(fd)
            raise OSError(e, f"inotify_add_watch {folder}: {os.strerror(e)}")
        self.fd = fd

    def changed(self) -> bool:
        """Drain what is queued; True if one of the names was written (or events were lost)."""
        hit = False
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return hit
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                return True
            if not buf:
                return hit
            i = 0
            while i + _HEAD.size <= len(buf):
                _wd, mask, _cookie, n = _HEAD.unpack_from(buf, i)
                name = buf[i + _HEAD.size:i + _HEAD.size + n].rstrip(b"\0")
                i += _HEAD.size + n
                if mask & IN_Q_OVERFLOW or name in self.names:
                    hit = True

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass
