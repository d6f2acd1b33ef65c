"""The SSH server's caps against a careless or hostile client, in one place so the README can
quote them (SPEC §6: PTY size and connection counts are capped, and the caps are in the README).

- **PTY size:** at most 500 columns × 200 rows, at the PTY request and on every window change. A
  bigger window is clamped, never refused: the app draws 500×200 in the top-left corner. Without
  the cap a 10000×10000 window made one session burn a core and hundreds of MB and send 400 MB in
  20 s, and 70000×70000 (more than a `struct winsize` holds) raised `struct.error`. 500×200 is
  more than a 4K screen shows at a readable font (about 550×145 at 7×15 px cells).
- **Keepalive:** a client that has sent nothing for 1 s is probed, once a second; when 2 probes
  are unanswered (3 s of silence) the connection is dropped, so a session whose network path went
  dead ends and gives its claims back within SPEC §6's 5 s (measured: 3.0–3.7 s; with 3 probes it
  was 4.0–4.5 s, too close). A client is dropped only if nothing at all arrives from it for 3 s.
- **Connections still logging in** (TCP accepted, not yet authenticated): at most 64 per server
  and 16 per remote address. One more is closed at once, with a log line (at most one a second
  per address, with a count of those not logged). 16 per address leaves room for a desk behind one NAT logging
  in at the same moment; authentication takes well under a second, and the login timeout bounds
  how long a silent connection can hold its place.
"""
from __future__ import annotations

import struct
import time
from collections import Counter, OrderedDict

MAX_COLS = 500
MAX_ROWS = 200
KEEPALIVE_INTERVAL = 1.0
KEEPALIVE_COUNT_MAX = 2
MAX_PENDING_LOGINS = 64
MAX_PENDING_LOGINS_PER_ADDRESS = 16
#: a winsize field is an unsigned short
_USHORT = 0xFFFF

TermSize = tuple[int, int, int, int]  # cols, rows, pixel width, pixel height


def cap_term_size(cols: int, rows: int, pxw: int = 0, pxh: int = 0) -> TermSize:
    """The size the app gets for the size a client asked for: columns and rows at most
    MAX_COLS × MAX_ROWS, and the pixel size scaled with them so a cell keeps its shape."""
    capped_cols, capped_rows = min(max(cols, 0), MAX_COLS), min(max(rows, 0), MAX_ROWS)
    if cols > capped_cols:
        pxw = pxw * capped_cols // cols
    if rows > capped_rows:
        pxh = pxh * capped_rows // rows
    return capped_cols, capped_rows, min(max(pxw, 0), _USHORT), min(max(pxh, 0), _USHORT)


def winsize(size: TermSize) -> bytes:
    """`struct winsize` for TIOCSWINSZ (rows first)."""
    cols, rows, pxw, pxh = cap_term_size(*size)
    return struct.pack("HHHH", rows, cols, pxw, pxh)


class LoginGate:
    """Counts the connections still logging in, per remote address and in total, so a flood of
    TCP connections that never authenticate cannot use up the server's file descriptors."""

    def __init__(self, total: int = MAX_PENDING_LOGINS, per_address: int = MAX_PENDING_LOGINS_PER_ADDRESS) -> None:
        self.total = total
        self.per_address = per_address
        self.pending: Counter[str] = Counter()
        self._logged: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (last line, unlogged)

    def admit(self, address: str) -> str | None:
        """None, and the connection counts as logging in; or why it is refused."""
        if sum(self.pending.values()) >= self.total:
            return f"{self.total} connections are still logging in"
        if self.pending[address] >= self.per_address:
            return f"{self.per_address} connections from it are still logging in"
        self.pending[address] += 1
        return None

    def release(self, address: str) -> None:
        """It authenticated or went away."""
        self.pending[address] -= 1
        if self.pending[address] <= 0:
            del self.pending[address]

    def log_refusal(self, address: str, now: float | None = None) -> int | None:
        """Whether to log this refusal: None to stay quiet (a flood logs one line a second per
        address, for the last 256 addresses), else how many went unlogged since its last line."""
        now = time.monotonic() if now is None else now
        last, unlogged = self._logged.pop(address, (float("-inf"), 0))
        if now - last < 1.0:
            self._logged[address] = (last, unlogged + 1)
            return None
        self._logged[address] = (now, 0)
        while len(self._logged) > 256:
            self._logged.popitem(last=False)
        return unlogged
