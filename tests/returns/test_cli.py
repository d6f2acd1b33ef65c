"""`orderq return …` in real processes: the forms scripts use, refusals with exit 2, and check afterwards."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import json_lines
from tests.returns.conftest import shipped_line


def test_cli_flow_and_separation_of_duties(rdb: Path, cli) -> None:  # noqa: ANN001
    db = ["--db", str(rdb)]
    big = shipped_line(rdb, min_left=1, min_amount_cents=60_000)
    left = big["qty"] - big["qty_returned"]
    p = cli(*db, "return", "new", "--user", "carol", "--order", big["number"],
            "--line", f"{big['sku']}:{left}:defective", "--resolution", "refund", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["state"] == "pending_approval" and d["requested_by"] == "carol" and d["orders"] == [big["number"]]
    # carol may not approve: exit 2, one line, no traceback, nothing written
    p = cli(*db, "return", "approve", d["number"], "--user", "carol")
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1]== f"orderq: Only supervisors can approve {d['number']}; carol is a returns clerk."
    assert "Traceback" not in p.stderr
    # sam requests one himself and may not approve his own
    other = shipped_line(rdb, min_left=1, exclude=(big["number"],))
    p = cli(*db, "return", "new", "--user", "sam", "--line", f"{other['number']}:{other['sku']}:1:damaged:unopened",
            "--resolution", "store_credit", "--json", check=True)
    own = json.loads(p.stdout)["number"]
    cli(*db, "users", "add", "sue", "--role", "supervisor", "--user", "admin", check=True)
    p = cli(*db, "return", "authorize", own, "--user", "sam", check=True)
    p = cli(*db, "return", "approve", d["number"], "--user", "sam", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["state"] == "authorized", p.stderr
    p = cli(*db, "return", "receive", d["number"], "--user", "carol", "--line", f"{big['sku']}:{max(0, left - 1)}")
    assert p.returncode == 0 and (left == 1 or "short receipt" in p.stdout), p.stderr
    cli(*db, "return", "inspect", d["number"], "--user", "carol", "--all", "like_new:restock", check=True)
    p = cli(*db, "return", "resolve", d["number"], "--user", "carol", check=True)
    assert "refund =" in p.stdout
    cli(*db, "return", "close", d["number"], "--user", "carol", check=True)
    shown = json.loads(cli(*db, "return", "show", d["number"], "--json", check=True).stdout)
    assert shown["state"] == "closed" and shown["lines"][0]["disposition"] == "restock"
    assert shown["refund_final"] is True
    p = cli(*db, "check")
    assert p.returncode == 0, p.stdout


def test_cli_refusals_and_claim_queue(rdb: Path, cli) -> None:  # noqa: ANN001
    db = ["--db", str(rdb)]
    ln = shipped_line(rdb)
    for args, msg in [
        (["--line", f"{ln['sku']}:1"], "use SKU:QTY:REASON"),
        (["--line", f"{ln['sku']}:1:broken"], "unknown reason"),
        (["--line", f"{ln['sku']}:1:other"], "needs a note"),
        (["--line", f"{ln['sku']}:9999:damaged"], "can be returned"),
        (["--line", "NOPE:1:damaged"], "has no line for SKU"),
    ]:
        p = cli(*db, "return", "new", "--user", "carol", "--order", ln["number"], "--resolution", "refund", *args)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
    p = cli(*db, "return", "new", "--user", "carol", "--order", ln["number"], "--line", f"{ln['sku']}:1:damaged",
            "--resolution", "cash")
    assert p.returncode == 2 and "unknown resolution" in p.stderr
    got = json_lines(cli(*db, "claim", "--user", "carol", "--queue", "returns", "--count", "2", "--json", check=True).stdout)
    assert len(got) == 2 and all(g["queue"] == "returns" and g["claim_token"] for g in got)
    p = cli(*db, "claim", "--user", "alice", "--queue", "returns")
    assert p.returncode == 2 and "Only returns clerks and supervisors can work returns; alice is a rep." in p.stderr
    rows = json_lines(cli(*db, "return", "list", "--open", "--json", check=True).stdout)
    assert rows and all(r["state"] in ("requested", "pending_approval", "authorized", "received", "inspected")
                        for r in rows)
    assert cli(*db, "check").returncode == 0


def test_racing_processes_never_return_more_than_shipped(rdb: Path) -> None:
    """Six processes race to return one unit each of a line with fewer units left: the winners are exactly
    the units left, the others are refused cleanly, and check holds."""
    import subprocess
    import sys

    from tests.conftest import REPO

    ln = shipped_line(rdb, min_left=2)
    left = ln["qty"] - ln["qty_returned"]
    n = left + 3
    exe = Path(sys.executable).parent / "orderq"
    procs = [subprocess.Popen([str(exe), "--db", str(rdb), "return", "new", "--user", "carol", "--order", ln["number"],
                               "--line", f"{ln['sku']}:1:damaged", "--resolution", "refund"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO) for _ in range(n)]
    outs = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    won = [rc for rc, _ in outs if rc == 0]
    lost = [err for rc, err in outs if rc != 0]
    assert len(won) == left
    assert len(lost) == 3 and all("can be returned" in e and "Traceback" not in e for e in lost), lost
    from tests.conftest import run_cli

    assert run_cli("--db", str(rdb), "check").returncode == 0
