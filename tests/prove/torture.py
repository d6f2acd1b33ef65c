"""The torture harness: workers run random commands, get SIGKILLed at random, and are restarted.

Used by test_torture.py (short form in CI, long form behind `make torture`).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from db.config import default_rules_text
from tests.conftest import REPO, run_cli

USERS = ["alice", "carol", "sam", "bob", "alice", "sam"]
LEASE_MINUTES = 0.05  # 3 s, so killed workers' leases lapse and are reaped during the run


@dataclass
class Figures:
    seconds: float = 0.0
    kills: int = 0
    starts: int = 0
    acked: int = 0
    events: int = 0
    by_action: Counter = field(default_factory=Counter)
    lease_expired: int = 0
    final_kills: int = 0

    def line(self) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.by_action.most_common())
        return (f"torture: {self.seconds:.0f} s, {self.kills} SIGKILLs ({self.kills - self.final_kills} mid-run "
                f"+ {self.final_kills} at the end), {self.starts} worker starts, "
                f"{self.acked} acknowledged commands ({top}), {self.events} events, "
                f"{self.lease_expired} leases reaped")


def short_lease_rules(folder: Path) -> Path:
    text = default_rules_text().replace("lease_minutes = 10", f"lease_minutes = {LEASE_MINUTES}")
    assert f"lease_minutes = {LEASE_MINUTES}" in text
    p = folder / "rules.toml"
    p.write_text(text, encoding="utf-8")
    return p


class Pool:
    def __init__(self, db: Path, folder: Path, nworkers: int, seed: int) -> None:
        self.db = db
        self.folder = folder
        self.rng = random.Random(seed)
        self.env = {**os.environ, "ORDERQ_RULES": str(short_lease_rules(folder)), "PYTHONPATH": str(REPO)}
        self.procs: list[subprocess.Popen | None] = [None] * nworkers
        self.logs = [folder / f"worker{i}.log" for i in range(nworkers)]
        self.errs = [folder / f"worker{i}.err" for i in range(nworkers)]
        self.starts = 0
        self.kills = 0
        self.final_kills = 0

    def start(self, i: int) -> None:
        user = USERS[i % len(USERS)]
        with open(self.errs[i], "a") as err:
            self.procs[i] = subprocess.Popen(
                [sys.executable, "-m", "tests.prove.torture_worker", str(self.db), str(self.logs[i]), user,
                 str(self.rng.randrange(1 << 30))],
                cwd=REPO, env=self.env, stdout=subprocess.DEVNULL, stderr=err,
            )
        self.starts += 1

    def check_alive(self) -> None:
        """A worker that exited by itself hit an unexpected exception: that is a finding."""
        for i, p in enumerate(self.procs):
            if p is not None and p.poll() is not None:
                raise AssertionError(f"worker {i} exited {p.returncode} on its own:\n{self.errs[i].read_text()[-3000:]}")

    def kill(self, i: int) -> None:
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.kills += 1
        self.procs[i] = None

    def run(self, seconds: float, min_gap: float = 0.15, max_gap: float = 1.0) -> None:
        for i in range(len(self.procs)):
            self.start(i)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                time.sleep(self.rng.uniform(min_gap, max_gap))
                self.check_alive()
                i = self.rng.randrange(len(self.procs))
                self.kill(i)
                self.start(i)
            self.check_alive()
        finally:
            mid_run = self.kills
            for i in range(len(self.procs)):
                self.kill(i)
            self.final_kills = self.kills - mid_run


def acknowledged(logs: list[Path]) -> list[dict]:
    out = []
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text(encoding="utf-8").splitlines():
            # a kill can only cut the line being written, which was never acknowledged (no fsync yet)
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def lost_acknowledgements(db: Path, acks: list[dict]) -> list[str]:
    """Every acknowledged command has its event: nothing acknowledged was lost."""
    conn = sqlite3.connect(db)
    counted: Counter = Counter()
    tokens: set[tuple[str, str]] = set()
    session_ended: Counter = Counter()
    for actor, ref, action, data in conn.execute("SELECT actor, ref, action, data FROM events"):
        d = json.loads(data)
        counted[(actor, ref, action)] += 1
        if d.get("token"):
            tokens.add((action, d["token"]))
            if d.get("claim") == "acquire":
                tokens.add(("acquire", d["token"]))
        if action == "unclaim" and d.get("why") == "session ended":
            session_ended[actor] += 1
    conn.close()
    want: Counter = Counter()
    gave_back: Counter = Counter()
    problems = []
    for a in acks:
        act, ref, user = a["action"], a["ref"], a["user"]
        if act in ("claim", "return_claim", "reassign"):
            if ("acquire", a["token"]) not in tokens:
                problems.append(f"acknowledged {act} of {ref} (token {a['token']}) has no claim event")
        elif act in ("release", "unclaim", "return_unclaim"):
            ev = {"return_unclaim": "unclaim"}.get(act, act)
            if (ev, a["token"]) not in tokens:
                problems.append(f"acknowledged {act} of {ref} (token {a['token']}) has no event")
        elif act == "give_back":
            gave_back[user] += a["count"]
        else:
            want[(user, ref, act)] += 1
    for key, n in want.items():
        if counted[key] < n:
            problems.append(f"{key[0]}'s {key[2]} of {key[1]}: {n} acknowledged, {counted[key]} in the event log")
    for user, n in gave_back.items():
        if session_ended[user] < n:
            problems.append(f"{user}: {n} claims given back, {session_ended[user]} in the event log")
    return problems


def run_torture(folder: Path, seconds: float, nworkers: int = 4, seed: int = 8, orders: int = 400) -> Figures:
    db = folder / "torture.db"
    run_cli("--db", str(db), "demo", "--orders", str(orders), "--seed", str(seed), check=True)
    conn = sqlite3.connect(db)
    first_event = conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
    conn.close()
    pool = Pool(db, folder, nworkers, seed)
    t0 = time.monotonic()
    pool.run(seconds)
    figs = Figures(seconds=time.monotonic() - t0, kills=pool.kills, starts=pool.starts, final_kills=pool.final_kills)

    check = run_cli("--db", str(db), "check", "--json")
    assert check.returncode == 0, f"orderq check failed after torture:\n{check.stdout}\n{check.stderr}"
    result = json.loads(check.stdout)
    assert result["ok"] and all(c["ok"] for c in result["checks"])

    acks = acknowledged(pool.logs)
    lost = lost_acknowledgements(db, acks)
    assert not lost, "acknowledged but not in the event log:\n" + "\n".join(lost[:20])

    conn = sqlite3.connect(db)
    figs.acked = len(acks)
    figs.by_action = Counter(a["action"] for a in acks)
    figs.events = conn.execute("SELECT COUNT(*) FROM events WHERE id > ?", (first_event,)).fetchone()[0]
    figs.lease_expired = conn.execute("SELECT COUNT(*) FROM events WHERE action = 'lease_expired'").fetchone()[0]
    conn.close()
    return figs
