"""The embedded SSH server with the real OpenSSH client, serving a stand-in app (fake_app.py) that
reports what a session process sees. The real app is served in test_app_over_ssh.py."""
from __future__ import annotations

import re
import signal
import socket
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.ssh.conftest import pid_alive, wait_for

pytestmark = [pytest.mark.ssh]


def session_pid(server, user: str = "alice", nth: int = 1) -> int:  # noqa: ANN001
    ms = re.findall(rf"session start user={user} .* pid=(\d+)", server.log)
    assert len(ms) >= nth, server.log
    return int(ms[nth - 1])


# ---- connecting -------------------------------------------------------------------------------

def test_known_key_gets_the_app_on_a_real_terminal(serve, keys, tmux) -> None:  # noqa: ANN001
    # the server itself runs inside an OpenSSH login: its SSH_* variables must not reach the app
    server = serve(env={"SSH_CONNECTION": "10.0.0.9 5555 10.0.0.1 22", "SSH_TTY": "/dev/pts/9"})
    tmux.new("a", server.ssh_argv(keys["alice"], "alice"), cols=100, rows=30)
    tmux.wait_text("a", r"READY user=alice screen=queue term=xterm-256color size=100x30 "
                        r"ssh_env=False ctty=True pid=\d+ remote=127\.0\.0\.1:\d+")
    tmux.send("a", "h", "i")
    tmux.wait_text("a", r"KEY b'h")
    tmux.send("a", "q")
    tmux.wait_text("a", "QUIT")
    wait_for(lambda: tmux.dead("a"), 10, "ssh to exit after the app quit")
    assert tmux.exit_status("a") == 0
    end = server.wait_log(r"session end user=alice remote=127\.0\.0\.1:\d+ term=xterm-256color size=100x30 "
                          r"duration=[\d.]+s reason=quit exit=0")
    assert end
    assert re.search(r"session start user=alice remote=127\.0\.0\.1:\d+ term=xterm-256color size=100x30", server.log)


def test_resizing_the_tmux_window_resizes_the_app(serve, keys, tmux) -> None:  # noqa: ANN001
    server = serve()
    tmux.new("r", server.ssh_argv(keys["alice"], "alice"), cols=90, rows=25)
    tmux.wait_text("r", r"READY .*size=90x25")
    tmux.resize("r", 132, 43)
    tmux.wait_text("r", r"SIZE 132x43")
    tmux.resize("r", 70, 20)
    tmux.wait_text("r", r"SIZE 70x20")
    tmux.send("r", "q")
    server.wait_log(r"session end user=alice .*size=70x20 .*reason=quit")


def test_unknown_key_wrong_login_and_disabled_user_are_refused(serve, keys, ssh_db) -> None:  # noqa: ANN001
    server = serve()
    r = server.run_ssh(keys["stranger"], "alice")
    assert r.returncode == 255 and "Permission denied (publickey)" in r.stderr
    r = server.run_ssh(keys["alice"], "bob")  # alice's key does not make you bob
    assert r.returncode == 255 and "Permission denied" in r.stderr
    run_cli("--db", str(ssh_db), "users", "disable", "bob", check=True)
    r = server.run_ssh(keys["bob"], "bob", "-tt")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    assert "unknown key or disabled user" in server.log
    assert "key belongs to alice" in server.log
    assert "session start" not in server.log


def test_password_and_keyboard_interactive_are_not_offered(serve, keys) -> None:  # noqa: ANN001
    server = serve()
    r = server.run_ssh(keys["stranger"], "alice", "-o", "PreferredAuthentications=password,keyboard-interactive")
    assert r.returncode == 255
    assert "Permission denied (publickey)" in r.stderr  # the only method the server lists


def test_exec_is_refused_and_nothing_runs(serve, keys, tmp_path: Path) -> None:  # noqa: ANN001
    server = serve()
    target = tmp_path / "pwned"
    r = server.run_ssh(keys["alice"], "alice", command=["touch", str(target)])
    assert r.returncode == 1
    assert "only the orderq app is served here; commands are refused" in r.stderr
    assert not target.exists()
    r = server.run_ssh(keys["alice"], "alice", "-tt", command=["sh"])
    assert r.returncode == 1 and "commands are refused" in r.stdout + r.stderr
    assert "session start" not in server.log
    assert "reason=exec 'touch" in server.log


def test_a_session_without_a_pty_gets_one_line_and_closes(serve, keys) -> None:  # noqa: ANN001
    server = serve()
    r = server.run_ssh(keys["alice"], "alice", "-T")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "orderq: the app needs a terminal: connect with a PTY (plain `ssh`, or `ssh -t`), not -T or a pipe"]
    assert "session start" not in server.log


def test_sftp_and_forwarding_are_refused(serve, keys) -> None:  # noqa: ANN001
    server = serve()
    r = server.run_ssh(keys["alice"], "alice", "-s", command=["sftp"])
    assert r.returncode != 0 and "subsystem request failed" in r.stderr
    # a stdio forward opens a direct-tcpip channel at once: refused
    r = server.run_ssh(keys["alice"], "alice", "-W", "127.0.0.1:22")
    assert r.returncode == 255 and "forwarding failed" in r.stderr
    r = server.run_ssh(keys["alice"], "alice", "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22")
    assert r.returncode == 255 and "forwarding failed" in r.stderr
    assert "session start" not in server.log


def test_a_screen_name_opens_the_app_on_that_screen(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve()
    c = pipe_client(server.ssh_argv(keys["sam"], "sam", "-tt") + ["wallboard"])
    c.expect(r"READY user=sam screen=wallboard term=xterm-256color size=80x24")
    c.send(b"q")
    assert c.wait() == 0


# ---- the host key --------------------------------------------------------------------------------

def test_host_key_is_generated_0600_and_reused(serve, keys, tmp_path: Path) -> None:  # noqa: ANN001
    key = tmp_path / "hk" / "host_key"
    known = tmp_path / "known_hosts"
    first = serve(host_key=key)
    fp = first.wait_log(r"host key \S+ (SHA256:\S+) \(generated\)").group(1)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    r = first.run_ssh(keys["alice"], "alice", command=["x"], known_hosts=str(known), strict="accept-new")
    assert r.returncode == 1 and known.read_text().strip()
    first.stop()
    second = serve(host_key=key)
    assert second.wait_log(r"host key \S+ (SHA256:\S+) \(reused\)").group(1) == fp
    # the client, now strict, recognises the server: same key
    # (known_hosts names host:port; a new port means a new entry, so rewrite it for the new port)
    known.write_text(re.sub(r"\[127\.0\.0\.1\]:\d+", f"[127.0.0.1]:{second.port}", known.read_text()))
    r = second.run_ssh(keys["alice"], "alice", command=["x"], known_hosts=str(known), strict="yes")
    assert r.returncode == 1 and "commands are refused" in r.stderr


@pytest.mark.sqlite_only("a database file has a folder to keep the key beside; with a URL --host-key is required")
def test_the_default_host_key_lives_beside_the_database(serve, ssh_db: Path) -> None:  # noqa: ANN001
    server = serve(host_key="")
    key = ssh_db.parent / "host_key_ed25519"
    server.wait_log(rf"host key {re.escape(str(key))} SHA256:\S+ \(generated\)")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_host_key_readable_by_others_is_refused(ssh_db: Path, tmp_path: Path) -> None:
    key = tmp_path / "loose_key"
    key.write_text("whatever")
    os.chmod(key, 0o644)
    r = run_cli("--db", str(ssh_db), "serve", "--port", "0", "--host-key", str(key))
    assert r.returncode == 2
    assert r.stderr.strip() == f"orderq: host key {key} is readable by others (mode 0644); run `chmod 600 {key}`"


def test_bad_flags_are_one_line(ssh_db: Path) -> None:
    r = run_cli("--db", str(ssh_db), "serve", "--max-sessions", "0")
    assert r.returncode == 2 and r.stderr.strip() == "orderq: --max-sessions must be between 1 and 10000"


@pytest.mark.sqlite_only("a missing file; tests/pg/test_pg_refusals.py refuses a missing PostgreSQL database")
def test_serve_on_a_missing_database_file_is_one_line(ssh_db: Path) -> None:
    r = run_cli("--db", str(ssh_db.parent / "missing.db"), "serve", "--port", "0")
    assert r.returncode == 2 and "no database at" in r.stderr and "Traceback" not in r.stderr


# ---- disconnects and crashes ------------------------------------------------------------------------

def test_killed_client_hangs_up_the_session_process(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve()
    c = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))
    c.expect("READY user=alice")
    pid = session_pid(server)
    assert pid_alive(pid)
    c.proc.send_signal(signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 5, "the session process to exit after its client was killed")
    # it went on SIGHUP from the closed PTY (not on the server's SIGKILL fallback)
    assert len(server.markers_named("hup")) == 1
    end = server.wait_log(r"session end user=alice .*reason=(.*) exit=")
    assert end.group(1) == "client gone"


def test_ten_sessions_and_one_crash_leaves_the_others_running(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve()
    users = ["alice", "bob", "sam"]
    clients = [pipe_client(server.ssh_argv(keys[users[i % 3]], users[i % 3], "-tt")) for i in range(10)]
    for c in clients:
        c.expect("READY user=")
    server.wait_log(r"sessions=10")
    pids = [int(p) for p in re.findall(r"session start .* pid=(\d+)", server.log)]
    assert len(set(pids)) == 10
    victim = pids[3]
    os.kill(victim, signal.SIGKILL)
    server.wait_log(r"session end .*reason=crashed \(signal 9\)")
    wait_for(lambda: [c for c in clients if "ended unexpectedly (signal 9)" in c.text], 10, "the crash message")
    crashed = [c for c in clients if "ended unexpectedly (signal 9)" in c.text]
    assert len(crashed) == 1
    assert crashed[0].wait() != 0
    for c in clients:
        if c is crashed[0]:
            continue
        c.send(b"k")
        c.expect(r"KEY b'k'")
    for c in clients:
        if c is not crashed[0]:
            c.send(b"q")
            assert c.wait() == 0
    wait_for(lambda: server.log.count("session end") == 10, 10, "ten session ends")


def test_max_sessions(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve("--max-sessions", "2")
    a = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))
    b = pipe_client(server.ssh_argv(keys["bob"], "bob", "-tt"))
    a.expect("READY")
    b.expect("READY")
    c = pipe_client(server.ssh_argv(keys["sam"], "sam", "-tt"))
    c.expect(r"the server is full \(2 sessions\); please try again later")
    assert c.wait() == 1
    a.send(b"q")
    assert a.wait() == 0
    server.wait_log("session end user=alice")
    d = pipe_client(server.ssh_argv(keys["sam"], "sam", "-tt"))
    d.expect("READY user=sam")


def test_login_timeout_drops_a_silent_client(serve) -> None:  # noqa: ANN001
    server = serve("--login-timeout", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        assert s.recv(64).startswith(b"SSH-2.0-orderq")
        s.settimeout(10)
        data = b"x"
        while data:  # the server speaks its key exchange, then hangs up when the login time is over
            data = s.recv(4096)


def test_a_login_that_never_opens_a_session_is_closed(serve, keys) -> None:  # noqa: ANN001
    server = serve("--login-timeout", "1")
    r = server.run_ssh(keys["alice"], "alice", "-N")
    assert r.returncode == 255
    assert "closing a login without a session user=alice" in server.log


# ---- idle timeout ------------------------------------------------------------------------------------

def test_idle_timeout_counts_keys_not_output_and_spares_the_wallboard(serve, keys, pipe_client) -> None:  # noqa: ANN001
    # long enough for three sessions to start on a loaded machine (both test passes at once): with 2 s,
    # alice's session was idled out before its app had printed READY
    server = serve("--idle-timeout", "6")
    board = pipe_client(server.ssh_argv(keys["sam"], "sam", "-tt") + ["wallboard"])  # started on the wallboard
    moved = pipe_client(server.ssh_argv(keys["bob"], "bob", "-tt"))                 # the app moves to it
    idle = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))              # stays on the queue
    for c in (board, moved, idle):
        c.expect("READY")
    moved.send(b"w")
    moved.expect("SCREEN wallboard")
    board.send(b"k")
    board.expect(r"KEY b'k'")
    # alice's last key comes after the wallboards' last keys, and her screen keeps printing
    idle.send(b"t")
    idle.expect("TICK")
    idle.expect(r"orderq: disconnected after 6 s without a key press", timeout=30)
    assert idle.wait() == 0
    assert server.markers_named("term")  # the app was asked to stop (SIGTERM) before the client was told
    server.wait_log(r"session end user=alice .*reason=idle")
    # the idle pass that stopped alice looked at the two wallboards, idle for longer, and spared them
    for c in (board, moved):
        assert c.proc.poll() is None
        c.send(b"k")
        c.expect(r"KEY b'k'")
    assert "reason=idle" not in re.sub(r".*user=alice.*", "", server.log)


# ---- SIGTERM ---------------------------------------------------------------------------------------

def test_sigterm_tells_every_session_and_exits(serve, keys, pipe_client) -> None:  # noqa: ANN001
    server = serve()
    clients = [pipe_client(server.ssh_argv(keys[u], u, "-tt")) for u in ("alice", "bob")]
    for c in clients:
        c.expect("READY")
    server.proc.send_signal(signal.SIGTERM)
    for c in clients:
        c.expect(r"BYE[\s\S]*orderq: the server is shutting down; please reconnect later")
        c.wait()
    assert server.proc.wait(15) == 0
    assert len(server.markers_named("term")) == 2
    assert server.log.count("reason=shutdown") == 2
    assert "stopped" in server.log
