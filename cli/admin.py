"""Set-up and operations: init, demo, users, events, check, backup."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import ValidationError
from db import dbapi
from db import events, outputs
from db.backup import backup
from db.check import run_checks
from db.connection import StoreError, reason, stopped_after
from db.service import Desk
from cli.common import MAX_ID, USER_HELP, bounded_int, db_path, emit_json, emit_lines, open_store, operator_desk, table
from db.service.users import parse_public_key
from db.store import is_url, open_readonly, shown


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", help="create or migrate the database", parents=[parent])
    p.add_argument("--json", action="store_true")
    p.add_argument("--app-role", metavar="NAME", help="PostgreSQL: create (if missing) the role the app's sessions "
                   "connect as, allowed only SELECT and INSERT on the event log; run as the database's owner")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="fill the database with realistic demo data", parents=[parent])
    p.add_argument("--orders", type=int, default=300)
    p.add_argument("--returns", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--force", action="store_true",
                   help="add demo data to a database that already holds orders, customers or users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    users = sub.add_parser("users", help="users and their SSH keys", parents=[parent])
    usub = users.add_subparsers(dest="users_cmd", required=True, parser_class=type(users))
    p = usub.add_parser("add", parents=[parent])
    p.add_argument("name")
    p.add_argument("--role", required=True)
    p.add_argument("--key", help="an OpenSSH public key file")
    p.add_argument("--user", help="acting admin")
    p.set_defaults(func=cmd_users_add)
    p = usub.add_parser("list", parents=[parent])
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")
    p.set_defaults(func=cmd_users_list)
    p = usub.add_parser("disable", parents=[parent])
    p.add_argument("name")
    p.add_argument("--user")
    p.set_defaults(func=cmd_users_disable)
    p = usub.add_parser("enable", parents=[parent])
    p.add_argument("name")
    p.add_argument("--user")
    p.set_defaults(func=cmd_users_enable)
    key = usub.add_parser("key", parents=[parent])
    ksub = key.add_subparsers(dest="key_cmd", required=True, parser_class=type(key))
    p = ksub.add_parser("add", parents=[parent])
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--user")
    p.set_defaults(func=cmd_key_add)
    p = ksub.add_parser("remove", parents=[parent])
    p.add_argument("name")
    p.add_argument("fingerprint", help="SHA256:… as `users list` prints it")
    p.add_argument("--user")
    p.set_defaults(func=cmd_key_remove)

    p = sub.add_parser("events", help="the audit log", parents=[parent])
    p.add_argument("--since", type=bounded_int(0, MAX_ID), default=0, metavar="ID",
                   help="events after this id (an event number, not a time; default 0: all)")
    p.add_argument("--user", help=USER_HELP)
    p.add_argument("--json", action="store_true", help="one JSON line per event")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("check", help="verify integrity and invariants", parents=[parent])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("backup", help="consistent online backup", parents=[parent])
    p.add_argument("dest")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backup)


def cmd_init(args: argparse.Namespace) -> int:
    role = args.app_role
    if role is not None:
        from db.dialect import SQLITE

        if not is_url(db_path(args)):
            SQLITE.grant_app_role(None, role)  # refuses, before the file is made
        from db.pg.roles import check_name

        check_name(role)  # before anything is migrated
    store = open_store(args, create=True)
    try:
        if role is not None:
            from db.dialect import of

            created = of(store.conn).grant_app_role(store.conn, role)
            if not args.json:
                print(f"app role {role}: {'created' if created else 'already there'}; it may only SELECT and INSERT "
                      "on the event log (give it a password with ALTER ROLE … PASSWORD)")
    finally:
        store.close()
    if args.json:
        target = db_path(args)
        emit_json({"db": shown(target) if is_url(target) else str(Path(target).resolve()), "ok": True})
    else:
        print(f"database ready: {shown(db_path(args))}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.orders < 0 or args.orders > 2_000_000:
        raise ValidationError("--orders must be between 0 and 2,000,000", field="orders")
    if args.returns < 0:
        raise ValidationError("--returns must be 0 or more", field="returns")
    store = open_store(args, create=True)
    from db import demo  # here, not at the top: it pulls in the returns rules, which `init`, `users`, `check`… never need

    held = demo.existing_data(store)
    if held and not args.force:
        store.close()
        raise ValidationError(f"demo: {db_path(args)} already holds {held}; demo data would mix with it "
                              "(use a new database file, or --force to add it anyway)", field="force")
    try:  # one transaction: on failure no demo data is in
        summary = demo.generate(store, orders=args.orders, seed=args.seed)
    except (StoreError, dbapi.Error) as e:
        raise StoreError(f"demo: {reason(e)}; no demo data was written (the database file is initialised)") from None
    result = summary.as_json()
    hook = getattr(demo, "generate_returns", None)
    if hook and args.returns:
        before = _count_returns(store)
        try:  # each return is its own command and commit
            result["returns"] = hook(store, returns=args.returns, seed=args.seed)
        except (StoreError, dbapi.Error) as e:
            made = _count_returns(store) - before
            raise stopped_after(
                f"demo: {reason(e)}", f"{summary.orders:,} demo orders and {made} of {args.returns} returns",
                f"the database is consistent; after freeing space, `orderq demo --force --orders 0 --returns "
                f"{args.returns - made}` adds the rest") from None
    if args.json:
        emit_json(result)
    else:
        states = ", ".join(f"{k} {v}" for k, v in summary.by_state.items())
        print(f"demo: {summary.orders} orders ({states}); {summary.customers} customers, "
              f"{summary.products} products; users {', '.join(demo.REPS)} (rep), carol (returns), sam (supervisor), "
              "admin")
        if "returns" in result:
            print(f"demo: returns {result['returns']}")
    return 0


def _count_returns(store) -> int:  # noqa: ANN001 - a Store
    return int(store.conn.execute("SELECT COUNT(*) FROM returns").fetchone()[0])


def cmd_users_add(args: argparse.Namespace) -> int:
    key_text = _read_key(args.key) if args.key else None  # before anything is written
    desk = operator_desk(args)
    user = desk.users.add(args.name, args.role, key_text)
    msg = f"user {user.name} added as {user.role.value}"
    if key_text:
        msg += f", key {parse_public_key(key_text)[2]}"
    print(msg)
    return 0


#: more than any OpenSSH public key line (an RSA 16384-bit key is about 2.8 KB)
MAX_KEY_FILE = 16 * 1024


def _read_key(path: str) -> str:
    """The first line of a public key file, read at most MAX_KEY_FILE bytes: `--key /dev/zero` once
    read without end, growing until killed."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise ValidationError(f"{path} is not a public key file (over {MAX_KEY_FILE // 1024} KiB)", field="key")
        return data.decode("utf-8").strip().splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        raise ValidationError(f"cannot read a public key from {path}", field="key") from None


def cmd_key_add(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    fp = desk.users.add_key(args.name, _read_key(args.file))
    print(f"key {fp} added for {args.name}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    rows = desk.users.list()
    if args.json:
        emit_lines(rows)
    else:
        print(table([[r["name"], r["role"], "yes" if r["active"] else "no", " ".join(r["fingerprints"]) or "-"]
                     for r in rows], ["name", "role", "active", "keys"]))
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    freed = desk.users.disable(args.name)
    print(f"user {args.name} disabled; {freed['orders']} orders and {freed['returns']} returns back to the queue, "
          f"{freed['sessions']} sessions ended")
    return 0


def cmd_users_enable(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    desk.users.enable(args.name)
    print(f"user {args.name} enabled")
    return 0


def cmd_key_remove(args: argparse.Namespace) -> int:
    desk = operator_desk(args)
    desk.users.remove_key(args.name, args.fingerprint)
    print(f"key {args.fingerprint} removed from {args.name}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    desk: Desk = operator_desk(args)
    for ev in events.iter_since(desk.store.conn, args.since):
        if args.json:
            emit_json(ev.model_dump(mode="json"))
        else:
            print(f"{ev.id:>8} {ev.at:%Y-%m-%d %H:%M:%S} {ev.actor:<12} {ev.entity:<8} {ev.ref or '':<12} {ev.action}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    conn = open_readonly(db_path(args))  # another app's file, or an empty one, is refused untouched
    try:
        results = run_checks(conn)
    finally:
        conn.close()
    ok = all(r.ok for r in results)
    if args.json:
        emit_json({"ok": ok, "checks": [r.as_json() for r in results]})
    else:
        for r in results:  # a FAIL line names the first problem (for the audit chain: the first broken event)
            print(f"ok   {r.name}" if r.ok else f"FAIL {r.name}: {r.problems[0]}")
            for p in r.problems[1:10]:
                print(f"     {p}")
            if len(r.problems) > 10:
                print(f"     … and {len(r.problems) - 10} more")
    return 0 if ok else 1


def cmd_backup(args: argparse.Namespace) -> int:
    """SQLite's online backup API: a consistent copy while sessions keep writing."""
    store = open_store(args)
    outputs.guard(args.dest, flag="backup", database=store.path)  # a new file: never over anything that exists
    dest = Path(args.dest)
    try:
        backup(store.conn, dest)
    finally:
        store.close()
    if args.json:
        emit_json({"backup": str(dest), "ok": True})
    else:
        print(f"backup written to {dest}")
    return 0
