"""A real webhook receiver process (receiver.py) on a free loopback port, a partner with a hook to it,
and the deliveries' real `orderq deliver` workers (tests.deliveries.conftest)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db.service import Desk
from tests.conftest import REPO
from tests.deliveries.conftest import Desk6, desk6_factory, free_port, workers, write_rules  # noqa: F401 - fixtures
from tests.helpers import wait_for

SECRET = "whsec-test-0123456789abcdef"
HERE = Path(__file__).resolve().parent


class Receiver:
    """receiver.py on 127.0.0.1:`port`, recording to `record`; stopped and started again at will."""

    def __init__(self, port: int, record: Path) -> None:
        self.port = port
        self.record = record
        self.url = f"http://127.0.0.1:{port}/hooks/orderq"
        self.proc: subprocess.Popen[str] | None = None

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, status: int = 200) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), str(self.port), str(self.record),
                                      str(status)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(self.listening, 15, f"the receiver on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        self.proc = None
        wait_for(lambda: not self.listening(), 10, "the receiver to be down")

    def requests(self) -> list[dict]:
        if not self.record.exists():
            return []
        whole = self.record.read_text().split("\n")[:-1]  # a line still being written has no newline yet
        return [json.loads(line) for line in whole if line.strip()]

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests()]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(free_port(), tmp_path / "received.jsonl")
    yield r
    if r.proc is not None and r.proc.poll() is None:
        r.proc.kill()
        r.proc.communicate(timeout=10)


class HookedDesk:
    """Desk6 (customer C00006 with a contact) with partner `shop` tied to C00006, subscribed at `url`."""

    def __init__(self, desk: Desk6, rules_path: Path) -> None:
        self.desk = desk
        self.rules_path = rules_path
        self.op = Desk.operator(desk.store, "admin-shell")
        self.op.partners.add("shop", "online", customer="C00006")

    def hook(self, url: str, events: str = "order.released,order.shipped,order.cancelled,return.resolved",
             partner: str = "shop", all_orders: bool = False) -> int:
        return self.op.webhooks.add(partner, url, events, secret=SECRET, all_orders=all_orders).id

    def deliveries(self) -> list[dict]:
        return [dict(r) for r in self.desk.store.conn.execute(
            "SELECT id, kind, ref, state, attempts, payload, last_error FROM deliveries WHERE kind = 'webhook' ORDER BY id")]


@pytest.fixture
def hooked(tmp_path: Path, desk6_factory: Callable[..., Desk6]) -> HookedDesk:  # noqa: F811
    rules_path, rules = write_rules(tmp_path)
    return HookedDesk(desk6_factory(rules), rules_path)
