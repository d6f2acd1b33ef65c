"""A lease that has lapsed is not held, in every view, as soon as it lapses (issue 12 §4).

Before: a lease that ended at 07:21 still read "working ● alice" in the queue and in
`order list --state in_progress` at 07:23, while `kpi` already said alice held nothing; only the
next claim by anyone returned it. Each view here is a real `orderq` process on a real WAL file,
looking eleven minutes on (`--now`, past the 10-minute lease), with nobody claiming in between.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import connect_db, json_lines

LATER = "+11m"  # past the default 10-minute lease


def _in_progress(cli, db: Path) -> list[dict]:  # noqa: ANN001
    return json_lines(cli("--db", str(db), "--now", LATER, "order", "list", "--state", "in_progress", "--json",
                          check=True).stdout)


def test_order_list_show_and_kpi_agree_once_a_lease_lapses(demo_db: Path, cli) -> None:  # noqa: ANN001
    mine = json.loads(cli("--db", str(demo_db), "claim", "--user", "alice", "--json", check=True).stdout)
    number = mine["number"]
    listed = _in_progress(cli, demo_db)  # the first look after the lapse: nothing claimed in between
    assert number not in [r["number"] for r in listed]
    assert all(r["claimed_by"] is None for r in listed if r["number"] == number)

    shown = json.loads(cli("--db", str(demo_db), "--now", LATER, "order", "show", number, "--json",
                           check=True).stdout)
    assert (shown["state"], shown["claimed_by"]) == ("queued", None)

    rep = json.loads(cli("--db", str(demo_db), "--now", LATER, "kpi", "--json", "--breakdown", check=True).stdout)
    assert rep["orders"]["in_progress"] == len(listed)
    holding = {n for r in rep["breakdown"]["by_rep"] for n in r["holding"]}
    assert number not in holding
    assert holding >= {r["number"] for r in listed}

    # the lapse is in the audit log, by the system, at most once
    hist = json.loads(cli("--db", str(demo_db), "--now", LATER, "order", "show", number, "--json", "--history",
                          check=True).stdout)["history"]
    lapsed = [e for e in hist if e["action"] == "lease_expired"]
    assert len(lapsed) == 1 and lapsed[0]["actor"] == "system" and lapsed[0]["data"]["token"] == mine["claim_token"]
    assert cli("--db", str(demo_db), "check", check=True).returncode == 0


def test_a_lapsed_return_claim_is_not_shown_as_held(demo_db: Path, cli) -> None:  # noqa: ANN001
    got = cli("--db", str(demo_db), "claim", "--user", "carol", "--queue", "returns", "--json", check=True).stdout
    if not got.strip():  # the demo has returns; if none is claimable the check below is vacuous, so say so
        raise AssertionError("the demo has no claimable return")
    number = json.loads(got)["number"]
    shown = json.loads(cli("--db", str(demo_db), "--now", LATER, "return", "show", number, "--json",
                           check=True).stdout)
    assert shown["claimed_by"] is None
    c = connect_db(demo_db)
    try:
        assert c.execute("SELECT claimed_by FROM returns WHERE number = ?", (number,)).fetchone()[0] is None
    finally:
        c.close()
