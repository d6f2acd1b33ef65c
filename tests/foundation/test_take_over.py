"""Taking over your own claim from another session (issue 12 §4): a claim transfer with a new
token and one event; the other session's token is fenced out; `orderq check` still holds.

Two real processes on a real WAL file: alice claims in one `orderq` process (the "other
session"), then takes the claim over in another."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import connect_db, json_lines


def test_take_over_moves_the_claim_and_fences_the_old_token(demo_db: Path, cli) -> None:  # noqa: ANN001
    db = str(demo_db)
    first = json.loads(cli("--db", db, "claim", "--user", "alice", "--json", check=True).stdout)
    number, old = first["number"], first["claim_token"]

    p = cli("--db", db, "claim", "--user", "alice", "--number", number, "--take-over", "--json")
    assert p.returncode == 0, p.stderr
    moved = json.loads(p.stdout)
    assert moved["number"] == number and moved["claim_token"] not in (old, None)

    # the old session's token no longer works; the new one does
    refused = cli("--db", db, "tick", number, "confirm ship-to", "--user", "alice", "--token", old)
    assert refused.returncode == 2 and "no longer valid" in refused.stderr
    assert cli("--db", db, "unclaim", number, "--user", "alice", "--token", moved["claim_token"]).returncode == 0

    c = connect_db(demo_db)
    try:
        evs = [(a, json.loads(d)) for a, d in
               c.execute("SELECT action, data FROM events WHERE ref = ? ORDER BY id", (number,))]
    finally:
        c.close()
    assert [a for a, _ in evs][-3:] == ["claim", "take_over", "unclaim"]
    transfer = evs[-2][1]
    assert (transfer["claim"], transfer["was"], transfer["token"]) == ("transfer", old, moved["claim_token"])
    assert cli("--db", db, "check", check=True).returncode == 0


def test_only_the_holder_can_take_over(demo_db: Path, cli) -> None:  # noqa: ANN001
    db = str(demo_db)
    number = json.loads(cli("--db", db, "claim", "--user", "alice", "--json", check=True).stdout)["number"]
    p = cli("--db", db, "claim", "--user", "bob", "--number", number, "--take-over")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "claimed by alice" in p.stderr
    shown = json.loads(cli("--db", db, "order", "show", number, "--json", check=True).stdout)
    assert shown["claimed_by"] == "alice"
    # without --number there is nothing to take over: refused, nothing claimed
    before = json_lines(cli("--db", db, "order", "list", "--state", "in_progress", "--json", check=True).stdout)
    p = cli("--db", db, "claim", "--user", "alice", "--take-over")
    assert p.returncode == 2 and "--number" in p.stderr
    after = json_lines(cli("--db", db, "order", "list", "--state", "in_progress", "--json", check=True).stdout)
    assert after == before
