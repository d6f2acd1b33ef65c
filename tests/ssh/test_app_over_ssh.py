"""The real app (`orderq tui`) served by `orderq serve`, driven with the real OpenSSH client.

What a rep notices: the queue appears, `c` claims, `q` quits, and the claim goes back; a killed
client or a crashed session never strands work; the role decides what is allowed.
"""
from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import json_lines, run_cli
from tests.ssh.conftest import StallingProxy, db_rows, pid_alive, wait_for

pytestmark = [pytest.mark.ssh]


def claimed_by(db, user: str) -> list[str]:  # noqa: ANN001
    return [r[0] for r in db_rows(db, "SELECT number FROM orders WHERE claimed_by = ? ORDER BY number", user)]


def online(db, user: str) -> list[int]:  # noqa: ANN001
    """The pids of the user's live app sessions (the app records its row once it is up)."""
    return [r[0] for r in db_rows(db, "SELECT pid FROM sessions WHERE \"user\" = ?", user)]


def test_rep_claims_in_the_queue_quits_and_the_claim_goes_back(serve, keys, tmux, ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    tmux.new("a", server.ssh_argv(keys["alice"], "alice"), cols=120, rows=35)
    tmux.wait_text("a", r"alice \(rep\)", timeout=20)
    tmux.wait_text("a", r"SO-\d{6}")
    assert claimed_by(ssh_db, "alice") == []
    tmux.send("a", "c")
    held = wait_for(lambda: claimed_by(ssh_db, "alice"), 10, "alice's claim in the database")
    assert len(held) == 1
    tmux.send("a", "b")  # claiming opened the order; b goes back to the queue keeping the claim
    tmux.wait_text("a", rf"{held[0]}.*in progress.*alice")
    tmux.send("a", "q")
    wait_for(lambda: tmux.dead("a"), 15, "ssh to end after q")
    assert tmux.exit_status("a") == 0
    assert claimed_by(ssh_db, "alice") == []
    assert db_rows(ssh_db, "SELECT state FROM orders WHERE number = ?", held[0]) == [("queued",)]
    server.wait_log(r"session end user=alice .*reason=quit exit=0")
    assert online(ssh_db, "alice") == []


def test_killing_the_ssh_client_ends_the_session_and_gives_the_claim_back(serve, keys, pipe_client,
                                                                          ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    client = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))
    pid = wait_for(lambda: online(ssh_db, "alice"), 20, "alice's session to come up")[0]  # type: ignore[index]
    assert pid == int(server.wait_log(r"session start user=alice .* pid=(\d+)").group(1))
    client.expect("Claim next", timeout=20)  # the queue screen's footer: keys go to the queue now
    client.send(b"c")
    held = wait_for(lambda: claimed_by(ssh_db, "alice"), 10, "alice's claim")
    client.proc.send_signal(signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 5, "the session process to exit within 5 s of the client's death")
    assert claimed_by(ssh_db, "alice") == []
    (data,) = db_rows(ssh_db, "SELECT data FROM events WHERE ref = ? AND action = 'unclaim' AND actor = 'alice'",
                      held[0])  # type: ignore[index]
    assert json.loads(data[0])["why"] == "session ended"
    # it left on the PTY hang-up, not on the server's SIGKILL fallback
    end = server.wait_log(r"session end user=alice .*reason=(.*) exit=")
    assert end.group(1) == "client gone"
    assert online(ssh_db, "alice") == []


def test_ten_sessions_claim_at_once_and_a_crash_strands_nothing(serve, keys, pipe_client, ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    first_event = db_rows(ssh_db, "SELECT MAX(id) FROM events")[0][0]

    def claims_made() -> dict[str, str]:
        """token -> order number, for the claims taken during this test"""
        rows = db_rows(ssh_db, "SELECT ref, data FROM events WHERE id > ? AND action = 'claim'", first_event)
        return {json.loads(d)["token"]: ref for ref, d in rows}

    def still_held(tokens: dict[str, str]) -> list[str]:
        held = {t for (t,) in db_rows(ssh_db, "SELECT claim_token FROM orders WHERE claim_token IS NOT NULL")}
        return sorted(n for t, n in tokens.items() if t in held)

    users = ["alice", "bob", "sam"]
    clients = [pipe_client(server.ssh_argv(keys[users[i % 3]], users[i % 3], "-tt")) for i in range(10)]
    wait_for(lambda: len(db_rows(ssh_db, "SELECT id FROM sessions")) == 10, 60, "ten app sessions")
    pids = [int(p) for p in re.findall(r"session start .* pid=(\d+)", server.log)]
    assert len(pids) == 10
    for c in clients:
        c.expect("Claim next", timeout=30)
        c.send(b"c")
    wait_for(lambda: len(claims_made()) == 10, 30, "ten claims")
    tokens = claims_made()
    assert len(set(tokens.values())) == 10  # ten different orders: nothing claimed twice
    # one session crashes: the others keep working
    victim = pids[4]
    victim_user = db_rows(ssh_db, "SELECT \"user\" FROM sessions WHERE pid = ?", victim)[0][0]
    os.kill(victim, signal.SIGKILL)
    server.wait_log(r"session end .*reason=crashed \(signal 9\)")
    crashed = wait_for(lambda: [c for c in clients if "ended unexpectedly (signal 9)" in c.text], 10, "the notice")
    assert len(crashed) == 1  # type: ignore[arg-type]
    for c in clients:
        if c not in crashed:  # type: ignore[operator]
            assert c.proc.poll() is None
            c.send(b"b")  # back from the order screen to the queue, keeping the claim
            c.expect("Claim next", timeout=20)
            c.send(b"q")
    for c in clients:
        if c not in crashed:  # type: ignore[operator]
            assert c.wait(20) == 0
    # everyone who quit gave their claims back; the crashed session's claim waits for its lease
    (stranded,) = still_held(tokens)
    assert db_rows(ssh_db, "SELECT claimed_by FROM orders WHERE number = ?", stranded) == [(victim_user,)]
    assert run_cli("--db", str(ssh_db), "check").returncode == 0
    later = (datetime.now(UTC) + timedelta(minutes=11)).isoformat()
    run_cli("--db", str(ssh_db), "--now", later, "claim", "--user", "bob", "--json", check=True)
    assert still_held(tokens) == []
    assert db_rows(ssh_db, "SELECT actor FROM events WHERE ref = ? AND action = 'lease_expired' AND id > ?",
                   stranded, first_event) == [("system",)]


def test_the_role_decides_through_ssh(serve, keys, tmux, ssh_db) -> None:  # noqa: ANN001
    """carol (returns) lands on the returns queue; on the orders queue below it she is not offered a
    claim; alice (rep) is not offered the supervisors' wallboard. The keys do nothing, and nothing is
    claimed."""
    server = serve(fake=False)
    tmux.new("c", server.ssh_argv(keys["carol"], "carol"), cols=120, rows=35)
    tmux.wait_text("c", r"Returns queue.*user carol", timeout=20)
    tmux.send("c", "Escape")
    tmux.wait_text("c", r"carol \(returns\)")
    assert "Claim next" not in tmux.capture("c")
    tmux.send("c", "c")
    assert claimed_by(ssh_db, "carol") == []
    tmux.new("a", server.ssh_argv(keys["alice"], "alice"), cols=120, rows=35)
    tmux.wait_text("a", r"alice \(rep\)", timeout=20)
    tmux.wait_text("a", r"Claim next")
    assert "Wallboard" not in tmux.capture("a")
    for name in ("c", "a"):
        tmux.send(name, "q")
    wait_for(lambda: tmux.dead("c") and tmux.dead("a"), 15, "both sessions to end")


def alice_claims_over_ssh(server, keys, pipe_client, ssh_db):  # noqa: ANN001, ANN201
    """Alice connects with the real OpenSSH client and presses c: her client, and the order she holds."""
    first_event = db_rows(ssh_db, "SELECT MAX(id) FROM events")[0][0]
    client = pipe_client(server.ssh_argv(keys["alice"], "alice", "-tt"))
    client.expect("Claim next", timeout=20)
    client.send(b"c")
    (number,) = wait_for(lambda: [r[0] for r in db_rows(
        ssh_db, "SELECT ref FROM events WHERE id > ? AND action = 'claim' AND actor = 'alice'", first_event)],
        10, "alice's claim")  # type: ignore[misc]
    return client, number


def test_an_idle_rep_is_disconnected_and_her_claim_goes_back(serve, keys, pipe_client, ssh_db) -> None:  # noqa: ANN001
    # long enough for the real app to start and take alice's claim on a loaded machine (both test passes
    # at once), or the session is idle before her first key
    server = serve("--idle-timeout", "6", fake=False)
    client, number = alice_claims_over_ssh(server, keys, pipe_client, ssh_db)
    # output keeps flowing (the clock in the header, the live feed) but only keys count
    client.expect(r"orderq: disconnected after 6 s without a key press", timeout=30)
    assert client.wait() == 0
    assert claimed_by(ssh_db, "alice") == []
    assert db_rows(ssh_db, "SELECT state FROM orders WHERE number = ?", number) == [("queued",)]
    end = server.wait_log(r"session end user=alice .*reason=(.*) exit=(-?\d+)")
    assert end.groups() == ("idle", "0")  # the app stopped on SIGTERM by itself, in time


def test_stopping_the_server_gives_every_claim_back_and_tells_the_rep(serve, keys, pipe_client,
                                                                      ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    client, number = alice_claims_over_ssh(server, keys, pipe_client, ssh_db)
    server.proc.send_signal(signal.SIGTERM)
    client.expect("orderq: the server is shutting down; please reconnect later", timeout=15)
    client.wait()
    assert server.proc.wait(15) == 0
    assert db_rows(ssh_db, "SELECT state, claimed_by FROM orders WHERE number = ?", number) == [("queued", None)]
    assert server.log.count("reason=shutdown exit=0") == 1  # the app left by itself, in time


def test_a_client_whose_network_stops_forwarding_is_dropped_within_seconds(serve, keys, tmux, ssh_db) -> None:  # noqa: ANN001
    """The network path between a rep and the server goes silent (no FIN, no RST), with the server's
    default keepalive: the session ends and her claim goes back within seconds (SPEC §6: 5 s)."""
    server = serve(fake=False)
    with StallingProxy(server.port) as proxy:
        first_event = db_rows(ssh_db, "SELECT MAX(id) FROM events")[0][0]
        tmux.new("a", server.ssh_argv(keys["alice"], "alice", port=proxy.port), cols=120, rows=35)
        tmux.wait_text("a", "Claim next", timeout=20)
        pid = int(server.wait_log(r"session start user=alice .* pid=(\d+)").group(1))
        tmux.send("a", "c")
        (number,) = wait_for(lambda: [r[0] for r in db_rows(
            ssh_db, "SELECT ref FROM events WHERE id > ? AND action = 'claim' AND actor = 'alice'", first_event)],
            10, "alice's claim")  # type: ignore[misc]
        proxy.stall()
        stalled = time.monotonic()
        wait_for(lambda: not pid_alive(pid) and db_rows(
            ssh_db, "SELECT claimed_by FROM orders WHERE number = ?", number) == [(None,)],
            10, "the session of a client whose network went silent to end and give its claim back")
        print(f"session ended and claim released {time.monotonic() - stalled:.1f} s after the network stalled")
        assert server.wait_log(r"session end user=alice .*reason=(.*) exit=").group(1) == "client gone"
        assert "killed" not in server.log  # it left on the hang-up, not on the SIGKILL fallback
