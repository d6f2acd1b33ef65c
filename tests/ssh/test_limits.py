"""The server's limits against a careless or hostile client (issue 17): the PTY size, the numeric
flags, refused commands, and connections that never log in. The clients are asyncssh (it sends
what OpenSSH will not: a 70000x70000 window, a connection kept after a refusal), raw TCP
sockets, and the real OpenSSH client for the legitimate user."""
from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import run_cli
from tests.ssh.conftest import AsyncClient, await_for, db_rows, wait_for

pytestmark = [pytest.mark.ssh]

#: the caps the README states
MAX_COLS, MAX_ROWS = 500, 200
PENDING_PER_ADDRESS, PENDING_TOTAL = 16, 64


# ---- the PTY size ------------------------------------------------------------------------------

async def test_a_huge_window_is_capped_at_the_request_and_on_every_change(serve, keys) -> None:  # noqa: ANN001
    server = serve()
    for asked in ((10000, 10000), (70000, 70000)):
        c = await AsyncClient.connect(server, keys["alice"], "alice")
        await c.open(asked)
        await c.expect(rf"READY user=alice .*size={MAX_COLS}x{MAX_ROWS} ")
        c.proc.change_terminal_size(70000, 70000)  # type: ignore[attr-defined]
        c.proc.change_terminal_size(2**32 - 1, 10)  # type: ignore[attr-defined]
        c.proc.change_terminal_size(132, 43)  # type: ignore[attr-defined]
        await c.expect(r"SIZE 132x43")
        assert set(re.findall(r"SIZE (\d+x\d+)", c.text)) <= {f"{MAX_COLS}x{MAX_ROWS}", f"{MAX_COLS}x10", "132x43"}
        c.proc.stdin.write(b"q")  # type: ignore[attr-defined]
        await c.expect("QUIT")
        c.close()
    await await_for(lambda: server.log.count("session end user=alice") == 2, 10, "both sessions to end")
    assert f"window 10000x10000 capped to {MAX_COLS}x{MAX_ROWS}" in server.log
    assert f"window 70000x70000 capped to {MAX_COLS}x{MAX_ROWS}" in server.log
    assert "struct.error" not in server.log and "Traceback" not in server.log
    assert server.proc.poll() is None


async def test_the_real_app_on_a_huge_window_draws_the_capped_size_and_hangs_up(serve, keys, ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    c = await AsyncClient.connect(server, keys["alice"], "alice")
    await c.open((10000, 10000))
    await c.expect("Claim next", timeout=30)
    pid = int(server.wait_log(r"session start user=alice .* pid=(\d+)").group(1))
    await await_for(lambda: db_rows(ssh_db, "SELECT pid FROM sessions WHERE \"user\" = 'alice'") == [(pid,)], 10,
                    "alice's session row")
    first_screen = len(c.out)
    print(f"first screen at a 10000x10000 request: {first_screen} bytes")
    assert first_screen < 8 << 20, first_screen  # a screen of 500x200 cells, not of 10000x10000
    c.close()
    end = await await_for(lambda: re.search(r"session end user=alice .*reason=(.*) exit=", server.log), 10,
                          "the session to end")
    assert end.group(1) == "client gone"  # on the hang-up, without the SIGKILL fallback
    await await_for(lambda: db_rows(ssh_db, "SELECT pid FROM sessions WHERE \"user\" = 'alice'") == [], 10,
                    "alice's session row to go")


# ---- refused commands ----------------------------------------------------------------------------

async def test_a_connection_whose_commands_are_refused_is_closed_after_the_login_timeout(serve, keys,
                                                                                      tmp_path: Path) -> None:  # noqa: ANN001
    server = serve("--login-timeout", "1")
    c = await AsyncClient.connect(server, keys["alice"], "alice")
    r = await c.conn.run(f"touch {tmp_path / 'pwned'}")  # type: ignore[attr-defined]
    assert r.exit_status == 1 and "commands are refused" in r.stderr
    # the client keeps the connection, asking again and again (each refusal must not buy more time),
    # and opens a session channel it never starts; the server closes the connection all the same
    await c.conn.create_session(asyncssh.SSHClientSession)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    closed = False
    while not closed and time.monotonic() < deadline:
        try:
            r = await c.conn.run("id")  # type: ignore[attr-defined]
        except (asyncssh.Error, OSError):
            closed = True  # the server closed it
        else:  # refused as before, or cut off mid-answer by the close
            closed = not (r.exit_status == 1 and "commands are refused" in r.stderr)
    assert closed, "the connection was still open 10 s after a 1 s login timeout"
    await await_for(lambda: "closing a login without a session user=alice" in server.log, 10,
                    "the server's log line")
    await asyncio.wait_for(c.conn.wait_closed(), 10)  # type: ignore[attr-defined]
    assert not (tmp_path / "pwned").exists()


# ---- connections that never log in ----------------------------------------------------------------

def _pending(port: int, source: str) -> socket.socket:
    """A TCP connection that reads the server's banner (so the server has taken it) and then says
    nothing."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    banner = b""
    while not banner.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        banner += chunk
    assert banner.startswith(b"SSH-2.0-orderq"), banner
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """True once the server has closed it (EOF or reset), False while it is held open."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_connections_that_never_log_in_are_capped_per_address_and_in_total(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve()
    held: list[socket.socket] = []
    try:
        for _ in range(PENDING_PER_ADDRESS):
            held.append(_pending(server.port, "127.0.0.1"))
        extra = _pending(server.port, "127.0.0.1")
        wait_for(lambda: _closed_by_server(extra), 10, "the server to close a connection over the per-address cap")
        server.wait_log(rf"refused a connection from 127\.0\.0\.1: {PENDING_PER_ADDRESS} connections from it "
                        r"are still logging in")
        # another address still gets in, and a registered user logs in from it
        c = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt", "-b", "127.0.0.2"))
        c.expect("READY user=alice")
        c.send(b"q")
        assert c.wait() == 0
        # fill the server: the next connection from any address is closed at once
        for i in range(2, 2 + (PENDING_TOTAL - PENDING_PER_ADDRESS) // PENDING_PER_ADDRESS):
            for _ in range(PENDING_PER_ADDRESS):
                held.append(_pending(server.port, f"127.0.0.{i}"))
        assert len(held) == PENDING_TOTAL
        extra2 = _pending(server.port, "127.0.0.99")
        wait_for(lambda: _closed_by_server(extra2), 10, "the server to close a connection over the total cap")
        server.wait_log(rf"refused a connection from 127\.0\.0\.99: {PENDING_TOTAL} connections are still logging in")
        assert not [s for s in held if _closed_by_server(s)]  # those under the caps wait for their login timeout
    finally:
        for s in held:
            s.close()
    # once the flood is gone, the user gets in from the flooded address
    c = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))
    c.expect("READY user=alice")
    c.send(b"q")
    assert c.wait() == 0
    assert server.proc.poll() is None


# ---- numeric flags ------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, value", [
    ("--login-timeout", "nan"), ("--login-timeout", "inf"), ("--login-timeout", "-1"), ("--login-timeout", "0"),
    ("--idle-timeout", "nan"), ("--idle-timeout", "inf"), ("--idle-timeout", "-5"),
    ("--max-sessions", "0"), ("--max-sessions", "100000000"), ("--port", "70000"),
    ("--max-pending-logins", "0"), ("--max-pending-logins-per-address", "0"),
    ("--keepalive", "nan"), ("--keepalive", "0"), ("--hangup-grace", "inf"), ("--shutdown-grace", "-1"),
])
def test_a_numeric_flag_out_of_range_is_one_line_and_nothing_starts(ssh_db: Path, flag: str, value: str) -> None:
    r = run_cli("--db", str(ssh_db), "serve", "--port", "0", f"{flag}={value}", timeout=30)
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"orderq: {flag} must be"), line
