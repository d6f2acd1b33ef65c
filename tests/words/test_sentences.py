"""Words a user reads: refusals as sentences, one label per state and channel, the paused clock.

Each test here failed before its fix: the refusals read "alice (rep) may not wallboard view", a
released order's release was "blocked: an order that is released cannot be released (only from:
in_progress)", `order list` printed in_progress and walk_in, and `order show --json` had no pause.
"""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from core.enums import OrderState, Role
from core.orders import transition
from core.permissions import PHRASE, Action, refusal
from core.errors import DomainError
from db.service.orders import LineInput
from tests.conftest import json_lines, run_cli
from tui.screens.return_process import done_text

NOW = ("--now", "2026-11-26T09:00:00Z")


def test_refusals_are_sentences_naming_who_may() -> None:
    assert refusal("alice", Role.REP, Action.WALLBOARD) == "Only supervisors can open the wallboard; alice is a rep."
    assert refusal("carol", Role.RETURNS, Action.RETURN_APPROVE, "RMA-000041") == (
        "Only supervisors can approve RMA-000041; carol is a returns clerk.")
    assert refusal("carol", Role.RETURNS, Action.ORDER_WORK, "SO-000001") == (
        "Only reps and supervisors can work SO-000001; carol is a returns clerk.")
    for action in Action:  # every action has words, and none reads like an identifier
        assert action in PHRASE, action
        text = refusal("x", Role.ADMIN, action)
        assert "." not in text[:-1] and "_" not in text, text


def test_cli_refusal_is_the_same_sentence(word_db: Path) -> None:
    p = run_cli("--db", str(word_db), *NOW, "claim", "--user", "carol")
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == "orderq: Only reps and supervisors can work orders; carol is a returns clerk."


def test_an_order_already_released_says_so() -> None:
    with pytest.raises(DomainError) as e:
        transition(OrderState.RELEASED, "release")
    assert e.value.message == "this order is already released"
    with pytest.raises(DomainError) as e:
        transition(OrderState.QUEUED, "release")
    assert e.value.message == "this order is queued; only an order that is in progress can be released"


def test_order_list_and_show_label_states_and_channels_json_keeps_values(word_db: Path, desk) -> None:  # noqa: ANN001
    alice = desk("alice")
    o = alice.orders.create(customer="C00003", channel="walk_in", type="standard", lines=[LineInput("BEV-0001", "1")])
    alice.orders.claim(o.number)
    db = ("--db", str(word_db), *NOW)
    text = run_cli(*db, "order", "list", "--state", "in_progress", check=True).stdout
    assert o.number in text and "in progress" in text and "walk-in" in text
    assert "in_progress" not in text and "walk_in" not in text
    shown = run_cli(*db, "order", "show", o.number, check=True).stdout
    assert "in progress" in shown and "channel walk-in" in shown
    rows = json_lines(run_cli(*db, "order", "list", "--state", "in_progress", "--json", check=True).stdout)
    mine = next(r for r in rows if r["number"] == o.number)
    assert (mine["state"], mine["channel"]) == ("in_progress", "walk_in")


def test_order_show_json_exposes_the_pause(word_db: Path, desk, clock) -> None:  # noqa: ANN001
    alice = desk("alice")
    o = alice.orders.create(customer="C00003", channel="phone", type="standard", lines=[LineInput("BEV-0001", "1")])
    alice.orders.hold(o.number, "customer_info", "waiting on a PO number")
    later = clock() + timedelta(hours=5)
    p = run_cli("--db", str(word_db), "--now", later.isoformat().replace("+00:00", "Z"), "order", "show", o.number,
                "--json", check=True)
    got = json.loads(p.stdout)
    assert got["sla_paused"] is True and got["due_at"] == o.due_at.isoformat().replace("+00:00", "Z")
    assert got["effective_due_at"] == (o.due_at + timedelta(hours=5)).isoformat().replace("+00:00", "Z")


def test_a_toast_does_not_repeat_itself() -> None:
    assert done_text("RMA-000041", "authorized", "authorized") == "RMA-000041 authorized"
    assert done_text("RMA-000041", "approved", "authorized") == "RMA-000041 approved; now authorized"
