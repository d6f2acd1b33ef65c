"""`orderq check` invariants for the audit log (added to db.check.CHECKS).

- the hash chain holds: every event's `prev_hash` is the hash of the event before it, and its
  `hash` matches its own columns (db/event_chain.py); no id is skipped and no newest events are
  missing (ids come from AUTOINCREMENT, which never reuses one, so removing the newest events and
  writing on leaves a gap);
- every guard trigger is present with the definition the migration laid down, since a dropped
  trigger lets the log be rewritten.

The chain is streamed in id order (one pass, constant memory): the online-retail year imports
100k+ events.
"""
from __future__ import annotations

import sqlite3

from db import dialect
from db.event_chain import COLUMNS, GENESIS, GUARD_TRIGGERS, event_hash


def chain_intact(conn: sqlite3.Connection) -> list[str]:
    """Each break is reported once, at the event where it is: a row whose contents changed fails
    its own hash; a row missing or inserted before an event fails that event's link."""
    d = dialect.of(conn)
    if "hash" not in d.columns(conn, "events"):
        return ["the event log has no hash chain yet: run `orderq init` to add it"]
    problems: list[str] = []
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: the hot loop of a 100k-event check
    prev_id, prev_hash = 0, GENESIS
    for row in cur.execute(f"SELECT {COLUMNS}, prev_hash, hash FROM events ORDER BY id"):
        eid, linked, stored = row[0], row[8], row[9]
        if stored is None:
            problems.append(f"event {eid}: has no hash (written behind the app's back)")
        elif eid != prev_id + 1:  # ids never skip (AUTOINCREMENT; a rolled-back write takes none)
            gone = f"event {prev_id + 1} is" if eid == prev_id + 2 else f"events {prev_id + 1}–{eid - 1} are"
            problems.append(f"event {eid}: {gone} missing before it (removed)")
        elif linked != prev_hash:
            after = f"event {prev_id}" if prev_id else "the start of the log"
            problems.append(f"event {eid}: does not follow {after} in the hash chain "
                            "(the event before it was replaced, or one was inserted)")
        if stored is not None and event_hash(linked or "", *row[:8]) != stored:
            problems.append(f"event {eid}: its contents do not match its hash (the event was altered)")
        prev_id, prev_hash = eid, stored
    seq = conn.execute(f"SELECT {d.event_seq}").fetchone()
    if seq and seq[0] is not None and seq[0] > prev_id:
        problems.append(f"events after {prev_id} were removed: event ids reached {seq[0]}")
    return problems  # in id order: the first names the first broken event


def _norm(sql: str) -> str:
    return " ".join(sql.split())


def guard_triggers_present(conn: sqlite3.Connection) -> list[str]:
    found = {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    problems = []
    for name, sql in GUARD_TRIGGERS.items():
        if name not in found:
            problems.append(f"trigger {name} is missing (dropped): the event log can be rewritten")
        elif _norm(found[name] or "") != _norm(sql):
            problems.append(f"trigger {name} was altered: it is not the definition the migration laid down")
    return problems


AUDIT_CHECKS = [
    ("audit log hash chain intact", chain_intact),
    ("audit log guard triggers present", guard_triggers_present),
]
