"""The app in a real terminal: tmux drives it with send-keys and reads it with capture-pane."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.tui_queue.conftest import NOW_ISO

pytestmark = pytest.mark.tmux
ORDERQ = Path(sys.executable).parent / "orderq"


class Tmux:
    def __init__(self) -> None:
        self.socket = f"orderq-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)

    def start(self, name: str, command: str) -> None:
        wrapped = f"sh -c {shlex.quote(command + '; echo orderq-exit=$?; sleep 120')}"
        p = self.run("new-session", "-d", "-x", "120", "-y", "35", "-s", name, wrapped)
        assert p.returncode == 0, p.stderr

    def keys(self, name: str, *keys: str) -> None:
        self.run("send-keys", "-t", name, *keys)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name).stdout

    def kill_session(self, name: str) -> None:
        self.run("kill-session", "-t", name)

    def close(self) -> None:
        self.run("kill-server")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    t = Tmux()
    yield t
    t.close()


def poll(cond: Callable[[], object], timeout: float = 15.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def show(db: Path, number: str) -> dict:
    """On the sessions' clock (--now): a read at the real clock, days later, would rightly find
    every lease from NOW_ISO lapsed and return it to the queue."""
    return json.loads(run_cli("--db", str(db), "--now", NOW_ISO, "order", "show", number, "--json", check=True).stdout)


def back_to_queue(tmux: Tmux, name: str) -> None:
    """Claiming opens the order screen; `b` goes back to the queue keeping the claim (Esc would give it back)."""
    if not poll(lambda: "Claim next" in tmux.screen(name), timeout=2):
        tmux.keys(name, "b")
        assert poll(lambda: "Claim next" in tmux.screen(name)), tmux.screen(name)


def next_queued(db: Path) -> str:
    rows = run_cli("--db", str(db), "--now", NOW_ISO, "order", "list", "--state", "queued", "--limit", "1", "--json",
                   check=True).stdout
    return json.loads(rows.splitlines()[0])["number"]


def tui_cmd(db: Path, user: str) -> str:
    return f"cd {shlex.quote(str(Path(__file__).resolve().parents[2]))} && env -u COLUMNS -u LINES " \
           f"{shlex.quote(str(ORDERQ))} --db {shlex.quote(str(db))} --now {NOW_ISO} tui --user {user}"


def test_claim_give_back_and_quit_with_keys_alone(queue_db: Path, tmux: Tmux) -> None:
    number = next_queued(queue_db)
    tmux.start("a", tui_cmd(queue_db, "alice"))
    assert poll(lambda: "Claim next" in tmux.screen("a") and "alice (rep)" in tmux.screen("a")), tmux.screen("a")

    tmux.keys("a", "c")
    assert poll(lambda: show(queue_db, number)["claimed_by"] == "alice"), tmux.screen("a")
    assert show(queue_db, number)["state"] == "in_progress"
    back_to_queue(tmux, "a")
    assert poll(lambda: any(number in ln and "alice" in ln for ln in tmux.screen("a").splitlines())), \
        tmux.screen("a")

    tmux.keys("a", "u")
    assert poll(lambda: show(queue_db, number)["state"] == "queued"), tmux.screen("a")
    assert show(queue_db, number)["claimed_by"] is None

    # claim again and quit: the claim goes back on the way out
    tmux.keys("a", "c")
    assert poll(lambda: show(queue_db, number)["claimed_by"] == "alice"), tmux.screen("a")
    back_to_queue(tmux, "a")
    tmux.keys("a", "q")
    assert poll(lambda: "orderq-exit=0" in tmux.screen("a")), tmux.screen("a")
    o = show(queue_db, number)
    assert (o["state"], o["claimed_by"]) == ("queued", None)
    assert "Traceback" not in tmux.screen("a")


def test_second_session_sees_another_process_change_and_hangup_gives_back(queue_db: Path, tmux: Tmux) -> None:
    number = next_queued(queue_db)
    tmux.start("b", tui_cmd(queue_db, "bob"))
    assert poll(lambda: "bob (rep)" in tmux.screen("b") and number in tmux.screen("b")), tmux.screen("b")

    claimed = json.loads(run_cli("--db", str(queue_db), "--now", NOW_ISO, "claim", "--user", "alice", "--json",
                                 check=True).stdout)
    assert claimed["number"] == number
    # no key pressed in b: its row now says alice
    assert poll(lambda: any(number in ln and "alice" in ln for ln in tmux.screen("b").splitlines())), \
        tmux.screen("b")

    # bob claims the next one, then his terminal goes away (SIGHUP): the claim comes back
    following = next_queued(queue_db)
    tmux.keys("b", "c")
    assert poll(lambda: show(queue_db, following)["claimed_by"] == "bob"), tmux.screen("b")
    tmux.kill_session("b")
    assert poll(lambda: show(queue_db, following)["claimed_by"] is None)
    assert show(queue_db, following)["state"] == "queued"


def test_bad_rules_file_stops_the_app_naming_the_key(queue_db: Path, tmux: Tmux, tmp_path: Path) -> None:
    """The queue paints before the rules are validated (SPEC §5 first paint); a bad file still
    stops the app at start-up, on the terminal, with the key named and nothing written."""
    import sqlite3

    rules = tmp_path / "rules.toml"
    default = (Path(__file__).resolve().parents[2] / "core" / "default_rules.toml").read_text()
    rules.write_text(default.replace("at_risk_minutes = 15", "at_risk_minutes = -5"))
    assert rules.read_text() != default

    def count() -> tuple[int, int]:
        with sqlite3.connect(queue_db) as c:
            return (c.execute("SELECT COUNT(*) FROM events").fetchone()[0],
                    c.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    before = count()
    tmux.start("r", f"export ORDERQ_RULES={shlex.quote(str(rules))}; {tui_cmd(queue_db, 'alice')}")
    assert poll(lambda: "orderq-exit=2" in tmux.screen("r")), tmux.screen("r")
    screen = tmux.screen("r")
    assert "queue.at_risk_minutes" in screen and "Traceback" not in screen, screen
    assert count() == before
