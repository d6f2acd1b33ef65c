"""Carol takes a return from new to resolved with the keyboard alone, in a real terminal (tmux)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, json_lines
from tests.helpers import Tmux, wait_for
from tests.returns.conftest import shipped_line

pytestmark = pytest.mark.tmux


def filter_to_one(t: Tmux, name: str, text: str) -> None:
    """Type into a prompt list's filter until it narrows to one item (keys sent while the list is still
    opening are not yet delivered to its filter, so clear and type again if they were lost)."""
    for _ in range(5):
        t.send(name, "C-u")
        t.type(name, text)
        if wait_for(lambda: f"▊  {text} " in (scr := t.screen(name)) and re.search(r"(?<![\d,])1 of [\d,]+ ", scr),
                    3, fail=False):
            return
    raise AssertionError(f"the prompt list never narrowed to {text!r}:\n{t.screen(name)}")


def test_carol_new_to_resolved_keyboard_only(rdb: Path, cli, tmux: Tmux) -> None:  # noqa: ANN001
    ln = shipped_line(rdb, min_left=1)
    exe = Path(sys.executable).parent / "orderq"
    t, w = tmux, "carol"
    env = f"-u COLUMNS -u LINES ORDERQ_DB={rdb} TERM=xterm-256color"
    t.new(w, f"cd {REPO} && env {env} {exe} tui --user carol", cols=160, rows=50)  # a returns clerk lands on returns
    try:
        t.wait_screen(w, "Returns queue")
        t.send(w, "n")
        t.wait_screen(w, "New return")
        t.send(w, "F4")                          # the shipped orders, searchable
        t.wait_screen(w, "Shipped orders")
        t.wait_screen(w, "Enter pick")              # the filter has focus: typing goes to it
        filter_to_one(t, w, ln["number"])
        t.send(w, "Enter")
        t.wait_screen(w, "returnable")
        t.wait_screen(w, f"{ln['number']} ")
        # focus is on the first returnable line's quantity
        t.type(w, "1")
        t.send(w, "Tab", "F4")                   # reasons list
        t.wait_screen(w, "our fault")
        t.wait_screen(w, "Enter pick")
        filter_to_one(t, w, "damaged")
        t.send(w, "Enter", "C-s")
        t.wait_screen(w, "REQUESTED")
        t.send(w, "t")
        t.wait_screen(w, "AUTHORIZED")
        t.send(w, "v")
        t.wait_screen(w, "a short receipt is allowed")
        t.send(w, "Enter")
        t.wait_screen(w, "RECEIVED")
        t.send(w, "i")
        t.wait_screen(w, "grade and disposition")
        t.send(w, "Enter")
        t.wait_screen(w, "INSPECTED")
        t.send(w, "s")
        s = t.wait_screen(w, "Enter: resolve")
        assert "no restocking fee (our fault)" in s
        t.send(w, "Enter")
        final = t.wait_screen(w, "RESOLVED")
        t.send(w, "C-q")
        assert t.exit_status(w) == 0
    finally:
        t.close()
    rows = json_lines(cli("--db", str(rdb), "return", "list", "--json", check=True).stdout)
    mine = [r for r in rows if ln["number"] in r["orders"] and r["requested_by"] == "carol" and r["state"] == "resolved"]
    assert mine, (ln, [r for r in rows if r["number"] == max(x["number"] for x in rows)], final)
    d = json.loads(cli("--db", str(rdb), "return", "show", mine[-1]["number"], "--json", check=True).stdout)
    # a damaged return proposes damaged / scrap: Enter no longer puts damaged goods back in stock
    assert d["lines"][0]["reason"] == "damaged" and d["lines"][0]["disposition"] == "scrap"
    assert cli("--db", str(rdb), "check").returncode == 0
