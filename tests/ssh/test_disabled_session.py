"""A user disabled while logged in (SPEC §6 "Users"): the live session ends within seconds saying
why, over the embedded SSH server and in a local terminal alike; their claim is back in the queue
and their next CLI command is refused. And the test clock switch never reaches a served session."""
from __future__ import annotations

from tests.conftest import TEST_CLOCK_ENV, run_cli
from tests.ssh.conftest import ORDERQ, clean_env, db_rows, pid_alive, wait_for

import pytest

pytestmark = [pytest.mark.ssh]

GONE = "your account was disabled"


def claimed_by(db, user: str) -> list[str]:  # noqa: ANN001
    return [r[0] for r in db_rows(db, "SELECT number FROM orders WHERE claimed_by = ? ORDER BY number", user)]


def _disable_bob_and_check_he_is_refused(db) -> str:  # noqa: ANN001
    p = run_cli("--db", str(db), "users", "disable", "bob", check=True)
    refused = run_cli("--db", str(db), "claim", "--user", "bob")
    assert refused.returncode == 2 and refused.stderr.splitlines() == ["orderq: user 'bob' is disabled"]
    return p.stdout


def test_disabling_a_user_ends_their_ssh_session_with_a_message(serve, keys, pipe_client, ssh_db) -> None:  # noqa: ANN001
    server = serve(fake=False)
    before = set(claimed_by(ssh_db, "bob"))
    client = pipe_client(server.ssh_argv(keys["bob"], "bob", "-tt"))
    client.expect("Claim next", timeout=20)
    pid = int(server.wait_log(r"session start user=bob .* pid=(\d+)").group(1))
    wait_for(lambda: db_rows(ssh_db, "SELECT id FROM sessions WHERE \"user\" = 'bob'"), 20, "bob's session row")
    client.send(b"c")
    (number,) = wait_for(lambda: sorted(set(claimed_by(ssh_db, "bob")) - before), 10, "bob's claim")  # type: ignore[misc]
    assert "sessions ended" in _disable_bob_and_check_he_is_refused(ssh_db)
    client.expect(GONE, timeout=10)
    assert client.wait(10) == 2
    wait_for(lambda: not pid_alive(pid), 5, "bob's session process to exit")
    assert db_rows(ssh_db, "SELECT state, claimed_by FROM orders WHERE number = ?", number) == [("queued", None)]
    assert db_rows(ssh_db, "SELECT id FROM sessions WHERE \"user\" = 'bob'") == []
    server.wait_log(r"session end user=bob .*exit=2")
    # and a disabled user cannot log in again
    again = server.run_ssh(keys["bob"], "bob", "-tt")
    assert again.returncode != 0


def test_disabling_a_user_ends_their_local_tui_with_a_message(tmux, ssh_db) -> None:  # noqa: ANN001
    tmux.new("b", ["env", "-u", "COLUMNS", "-u", "LINES", str(ORDERQ), "--db", str(ssh_db), "tui", "--user", "bob"],
             cols=120, rows=35)
    tmux.wait_text("b", r"bob \(rep\)", timeout=20)
    wait_for(lambda: db_rows(ssh_db, "SELECT id FROM sessions WHERE \"user\" = 'bob'"), 20, "bob's session row")
    _disable_bob_and_check_he_is_refused(ssh_db)
    tmux.wait_text("b", rf"orderq: {GONE}", timeout=10)
    assert tmux.exit_status("b") == 2


def test_a_served_session_never_sees_the_test_clock_switch(serve, keys) -> None:  # noqa: ANN001
    assert clean_env().get(TEST_CLOCK_ENV) == "1"  # the server itself has it (tests/conftest.py)
    server = serve("--command", "env", fake=False)
    out = server.run_ssh(keys["alice"], "alice", "-tt").stdout
    assert "ORDERQ_DB=" in out
    assert TEST_CLOCK_ENV not in out
