"""The app in a real terminal: tmux drives it with send-keys and reads it with capture-pane."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.conftest import connect_db, run_cli
from tests.helpers import Tmux, wait_for
from tests.tui_queue.conftest import NOW_ISO

pytestmark = pytest.mark.tmux
ORDERQ = Path(sys.executable).parent / "orderq"


def show(db: Path, number: str) -> dict:
    """On the sessions' clock (--now): a read at the real clock, days later, would rightly find
    every lease from NOW_ISO lapsed and return it to the queue."""
    return json.loads(run_cli("--db", str(db), "--now", NOW_ISO, "order", "show", number, "--json", check=True).stdout)


def back_to_queue(tmux: Tmux, name: str) -> None:
    """Claiming opens the order screen; `b` goes back to the queue keeping the claim (Esc would give it back)."""
    if not wait_for(lambda: "Claim next" in tmux.screen(name), 2, fail=False):
        tmux.send(name, "b")
        wait_for(lambda: "Claim next" in tmux.screen(name), what="the queue after b")


def next_queued(db: Path) -> str:
    rows = run_cli("--db", str(db), "--now", NOW_ISO, "order", "list", "--state", "queued", "--limit", "1", "--json",
                   check=True).stdout
    return json.loads(rows.splitlines()[0])["number"]


def tui_cmd(db: Path, user: str) -> str:
    return f"cd {shlex.quote(str(Path(__file__).resolve().parents[2]))} && env -u COLUMNS -u LINES " \
           f"{shlex.quote(str(ORDERQ))} --db {shlex.quote(str(db))} --now {NOW_ISO} tui --user {user}"


def test_claim_give_back_and_quit_with_keys_alone(queue_db: Path, tmux: Tmux) -> None:
    number = next_queued(queue_db)
    tmux.new("a", tui_cmd(queue_db, "alice"))
    assert wait_for(lambda: "Claim next" in tmux.screen("a") and "alice (rep)" in tmux.screen("a"), fail=False), tmux.screen("a")

    tmux.send("a", "c")
    assert wait_for(lambda: show(queue_db, number)["claimed_by"] == "alice", fail=False), tmux.screen("a")
    assert show(queue_db, number)["state"] == "in_progress"
    back_to_queue(tmux, "a")
    assert wait_for(lambda: any(number in ln and "alice" in ln for ln in tmux.screen("a").splitlines()), fail=False), \
        tmux.screen("a")

    tmux.send("a", "u")
    assert wait_for(lambda: show(queue_db, number)["state"] == "queued", fail=False), tmux.screen("a")
    assert show(queue_db, number)["claimed_by"] is None

    # claim again and quit: the claim goes back on the way out
    tmux.send("a", "c")
    assert wait_for(lambda: show(queue_db, number)["claimed_by"] == "alice", fail=False), tmux.screen("a")
    back_to_queue(tmux, "a")
    tmux.send("a", "q")
    assert tmux.exit_status("a", timeout=15) == 0
    o = show(queue_db, number)
    assert (o["state"], o["claimed_by"]) == ("queued", None)
    assert "Traceback" not in tmux.capture("a")


def test_second_session_sees_another_process_change_and_hangup_gives_back(queue_db: Path, tmux: Tmux) -> None:
    number = next_queued(queue_db)
    tmux.new("b", tui_cmd(queue_db, "bob"))
    assert wait_for(lambda: "bob (rep)" in tmux.screen("b") and number in tmux.screen("b"), fail=False), tmux.screen("b")

    claimed = json.loads(run_cli("--db", str(queue_db), "--now", NOW_ISO, "claim", "--user", "alice", "--json",
                                 check=True).stdout)
    assert claimed["number"] == number
    # no key pressed in b: its row now says alice
    assert wait_for(lambda: any(number in ln and "alice" in ln for ln in tmux.screen("b").splitlines()), fail=False), \
        tmux.screen("b")

    # bob claims the next one, then his terminal goes away (SIGHUP): the claim comes back
    following = next_queued(queue_db)
    tmux.send("b", "c")
    assert wait_for(lambda: show(queue_db, following)["claimed_by"] == "bob", fail=False), tmux.screen("b")
    tmux.kill("b")
    assert wait_for(lambda: show(queue_db, following)["claimed_by"] is None, fail=False)
    assert show(queue_db, following)["state"] == "queued"


def test_bad_rules_file_stops_the_app_naming_the_key(queue_db: Path, tmux: Tmux, tmp_path: Path) -> None:
    """The queue paints before the rules are validated (SPEC §5 first paint); a bad file still
    stops the app at start-up, on the terminal, with the key named and nothing written."""
    
    rules = tmp_path / "rules.toml"
    default = (Path(__file__).resolve().parents[2] / "core" / "default_rules.toml").read_text()
    rules.write_text(default.replace("at_risk_minutes = 15", "at_risk_minutes = -5"))
    assert rules.read_text() != default

    def count() -> tuple[int, int]:
        with connect_db(queue_db) as c:
            return (c.execute("SELECT COUNT(*) FROM events").fetchone()[0],
                    c.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    before = count()
    tmux.new("r", f"export ORDERQ_RULES={shlex.quote(str(rules))}; {tui_cmd(queue_db, 'alice')}")
    assert tmux.exit_status("r", timeout=15) == 2
    screen = tmux.capture("r")
    assert "queue.at_risk_minutes" in screen and "Traceback" not in screen, screen
    assert count() == before
