"""`orderq webhooks add/list/remove/log` as a shell user meets them: bad input is one line on stderr, exit 2,
and nothing written; the secret is never printed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import connect_db, run_cli
from tests.webhooks.conftest import SECRET


def counts(db: Path) -> tuple[int, int]:
    c = connect_db(db)
    try:
        return (c.execute("SELECT COUNT(*) FROM webhooks").fetchone()[0], c.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        c.close()


@pytest.fixture
def shop_db(demo_db: Path) -> Path:
    run_cli("--db", str(demo_db), "partners", "add", "shop", "--channel", "online", "--customer", "C00006", check=True)
    return demo_db


@pytest.mark.parametrize("argv, says", [
    (["nope", "http://127.0.0.1:8099/h", "--events", "order.released"], "unknown partner 'nope'"),
    (["shop", "http://127.0.0.1:8099/h", "--events", "order.released,order.lost"], "unknown event 'order.lost'"),
    (["shop", "http://127.0.0.1:8099/h", "--events", ""], "name at least one event"),
    (["shop", "ftp://127.0.0.1/h", "--events", "order.released"], "a webhook URL is http:// or https://"),
    (["shop", "127.0.0.1:8099/h", "--events", "order.released"], "http:// or https://"),
    (["shop", "http:///h", "--events", "order.released"], "names no host"),
    (["shop", "http://127.0.0.1:99999/h", "--events", "order.released"], "bad host or port"),
    (["shop", "https://user:pw@example.com/h", "--events", "order.released"], "may not carry a user or password"),
    (["shop", "http://127.0.0.1:8099/h", "--events", "order.released", "--all-orders"], "--all-orders is for"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(shop_db: Path, tmp_path: Path, argv: list[str],
                                                          says: str) -> None:
    secret = tmp_path / "s"
    secret.write_text(SECRET)
    before = counts(shop_db)
    r = run_cli("--db", str(shop_db), "webhooks", "add", *argv, "--secret-file", str(secret))
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr and counts(shop_db) == before


@pytest.mark.parametrize("content", [None, "", "short"])
def test_an_unreadable_or_unfit_secret_file_is_refused(shop_db: Path, tmp_path: Path, content: str | None) -> None:
    secret = tmp_path / "s"
    if content is not None:
        secret.write_text(content)
    before = counts(shop_db)
    r = run_cli("--db", str(shop_db), "webhooks", "add", "shop", "http://127.0.0.1:8099/h", "--events",
                "order.released", "--secret-file", str(secret))
    assert r.returncode == 2 and "secret" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert counts(shop_db) == before


def test_add_list_remove_log_and_the_secret_is_never_shown(shop_db: Path, tmp_path: Path) -> None:
    secret = tmp_path / "s"
    secret.write_text(SECRET + "\n")
    db = str(shop_db)
    r = run_cli("--db", db, "webhooks", "add", "shop", "http://127.0.0.1:8099/h", "--events",
                "order.shipped,order.released", "--secret-file", str(secret), "--json", check=True)
    made = json.loads(r.stdout)
    assert made["events"] == ["order.released", "order.shipped"] and made["scope"] == "partner"
    listed = run_cli("--db", db, "webhooks", "list", check=True).stdout
    assert "http://127.0.0.1:8099/h" in listed and "order.released,order.shipped" in listed
    assert SECRET not in listed and SECRET not in run_cli("--db", db, "webhooks", "list", "--json", check=True).stdout
    assert run_cli("--db", db, "webhooks", "log", check=True).stdout.strip() == "no webhook deliveries"
    r = run_cli("--db", db, "webhooks", "remove", str(made["id"]), check=True)
    assert f"webhook {made['id']} removed" in r.stdout
    assert run_cli("--db", db, "webhooks", "list", check=True).stdout.strip() == "no webhooks"
    again = run_cli("--db", db, "webhooks", "remove", str(made["id"]))
    assert again.returncode == 2 and f"no webhook {made['id']}" in again.stderr
    nobody = run_cli("--db", db, "webhooks", "log", "nope")
    assert nobody.returncode == 2 and "unknown partner 'nope'" in nobody.stderr
    events = run_cli("--db", db, "events", "--json", check=True).stdout
    assert SECRET not in events and "webhook_added" in events and "webhook_removed" in events
