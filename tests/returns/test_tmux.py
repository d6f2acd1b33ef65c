"""Carol takes a return from new to resolved with the keyboard alone, in a real terminal (tmux)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, json_lines
from tests.returns.conftest import shipped_line

pytestmark = pytest.mark.tmux


class Tmux:
    def __init__(self, name: str) -> None:
        self.sock = name
        self.target = f"{name}:0"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.target, "-l", text)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def filter_to_one(self, text: str) -> None:
        """Type into a prompt list's filter until it narrows to one item (keys sent while the list is still
        opening are not yet delivered to its filter, so clear and type again if they were lost)."""
        for _ in range(5):
            self.keys("C-u")
            self.type(text)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                scr = self.screen()
                if f"▊  {text} " in scr and re.search(r"(?<![\d,])1 of [\d,]+ ", scr):
                    return
                time.sleep(0.05)
        raise AssertionError(f"the prompt list never narrowed to {text!r}:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if text in s:
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; screen was:\n{s}")
            time.sleep(0.05)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_carol_new_to_resolved_keyboard_only(rdb: Path, cli) -> None:  # noqa: ANN001
    ln = shipped_line(rdb, min_left=1)
    exe = Path(sys.executable).parent / "orderq"
    t = Tmux(f"orderq-returns-{os.getpid()}")
    env = f"-u COLUMNS -u LINES ORDERQ_DB={rdb} TERM=xterm-256color"
    t.run("new-session", "-d", "-s", t.sock, "-x", "160", "-y", "50", "-c", str(REPO),
          f"env {env} {exe} tui --user carol --screen returns")
    t.run("set-option", "-t", t.sock, "remain-on-exit", "on")
    t.run("resize-window", "-t", t.target, "-x", "160", "-y", "50")
    try:
        t.wait_for("Returns queue")
        t.keys("n")
        t.wait_for("New return")
        t.keys("F4")                          # the shipped orders, searchable
        t.wait_for("Shipped orders")
        t.wait_for("Enter pick")              # the filter has focus: typing goes to it
        t.filter_to_one(ln["number"])
        t.keys("Enter")
        t.wait_for("returnable")
        t.wait_for(f"{ln['number']} ")
        # focus is on the first returnable line's quantity
        t.type("1")
        t.keys("Tab", "F4")                   # reasons list
        t.wait_for("our fault")
        t.wait_for("Enter pick")
        t.filter_to_one("damaged")
        t.keys("Enter", "C-s")
        t.wait_for("REQUESTED")
        t.keys("t")
        t.wait_for("AUTHORIZED")
        t.keys("v")
        t.wait_for("a short receipt is allowed")
        t.keys("Enter")
        t.wait_for("RECEIVED")
        t.keys("i")
        t.wait_for("grade and disposition")
        t.keys("Enter")
        t.wait_for("INSPECTED")
        t.keys("s")
        s = t.wait_for("Enter: resolve")
        assert "no restocking fee (our fault)" in s
        t.keys("Enter")
        final = t.wait_for("RESOLVED")
        t.keys("C-q")
        deadline = time.monotonic() + 10
        while t.run("list-panes", "-t", t.target, "-F", "#{pane_dead}").strip() != "1":
            assert time.monotonic() < deadline, "the app did not quit on ctrl+q"
            time.sleep(0.05)
    finally:
        subprocess.run(["tmux", "-L", t.sock, "kill-server"], capture_output=True)
    rows = json_lines(cli("--db", str(rdb), "return", "list", "--json", check=True).stdout)
    mine = [r for r in rows if ln["number"] in r["orders"] and r["requested_by"] == "carol" and r["state"] == "resolved"]
    assert mine, (ln, [r for r in rows if r["number"] == max(x["number"] for x in rows)], final)
    d = json.loads(cli("--db", str(rdb), "return", "show", mine[-1]["number"], "--json", check=True).stdout)
    assert d["lines"][0]["reason"] == "damaged" and d["lines"][0]["disposition"] == "restock"
    assert cli("--db", str(rdb), "check").returncode == 0
