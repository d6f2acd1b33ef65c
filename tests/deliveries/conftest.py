"""A real SMTP server (aiosmtpd) on a free loopback port, rules that name it and an outbox folder, and
real `orderq deliver` processes."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from core.rules import Rules, parse_rules
from db.config import default_rules_text
from db.service import Desk
from db.service.orders import LineInput
from db.store import Clock, Store, system_clock
from tests.conftest import REPO
from tests.customers.conftest import add_addresses
from tests.helpers import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if self.refuse and address == self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`, startable later (a mail server that is down, then comes back)."""

    def __init__(self, port: int, inbox: Inbox) -> None:
        self.port = port
        self.inbox = inbox
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[SmtpServer]:
    """A mail server on a free port, NOT started: the test starts it (or leaves it down)."""
    server = SmtpServer(free_port(), inbox)
    yield server
    server.stop()


def rules_text(*, smtp_port: int | None = None, outbox: Path | None = None) -> str:
    """The shipped rules with the papers' outbox folder and/or a plain-text local SMTP server."""
    head = default_rules_text().split("# The papers, delivered", 1)[0]
    extra = f'\n[papers]\noutbox = "{outbox}"\n' if outbox else ""
    if smtp_port:
        extra += (f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nfrom_address = "orders@desk.example"\n'
                  'starttls = false\ntimeout_seconds = 5\n')
    return head + extra


def write_rules(tmp_path: Path, **kw) -> tuple[Path, Rules]:  # noqa: ANN003
    path = tmp_path / "rules.toml"
    path.write_text(rules_text(**kw))
    return path, parse_rules(path.read_text())


class Desk6:
    """The demo desk with customer C00006's addresses and contact pat@green.example, under given rules."""

    def __init__(self, db: Path, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.ids = add_addresses(db)
        self.store = Store.open(db, rules=rules, clock=clock)
        self.alice = Desk.for_user(self.store, "alice")

    def released_order(self, customer: str = "C00006") -> str:
        """An order entered by phone, worked and released by alice."""
        o = self.alice.orders.create(customer=customer, channel="phone", type="standard",
                                     lines=[LineInput("BEV-0001", 1)])
        claim = self.alice.orders.claim(o.number)
        for step in o.checklist:
            self.alice.orders.tick(o.number, step, token=claim.claim_token)
        self.alice.orders.release(o.number, token=claim.claim_token)
        return o.number


@pytest.fixture
def desk6_factory(demo_db: Path) -> Iterator[Callable[..., Desk6]]:
    made: list[Desk6] = []

    def make(rules: Rules, clock: Clock = system_clock) -> Desk6:
        d = Desk6(demo_db, rules, clock)
        made.append(d)
        return d

    yield make
    for d in made:
        d.store.close()


class Workers:
    """Real `orderq deliver` processes; stopped with SIGTERM at the end, each must exit 0."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, db: Path, rules: Path, name: str = "w1") -> subprocess.Popen[str]:
        exe = Path(sys.executable).parent / "orderq"
        p = subprocess.Popen([str(exe), "--db", str(db), "deliver", "--name", name], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "ORDERQ_RULES": str(rules)})
        self.procs.append(p)
        return p

    def stop_all(self) -> list[tuple[int, str, str]]:
        out = []
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            so, se = p.communicate(timeout=30)
            out.append((p.returncode, so, se))
        self.procs.clear()
        return out


@pytest.fixture
def workers() -> Iterator[Workers]:
    w = Workers()
    yield w
    for p in w.procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def mails_to(inbox: Inbox, number: str) -> list[EmailMessage]:
    return [m for _, m in inbox.mails if number in m["Subject"]]


def wait_mail(inbox: Inbox, number: str, timeout: float = 30) -> EmailMessage:
    return wait_for(lambda: mails_to(inbox, number), timeout, f"the acknowledgment of {number}")[0]


def customer_without_contact(store: Store, code: str = "C09001") -> str:
    """Every demo customer has a buyer on file; a mail owed to an order of this new one has nobody to go to."""
    from tests.customers.conftest import SHIP_1

    shell = Desk.operator(store)
    shell.customers.add(code, "No Contact Ltd", credit_limit="50000")
    shell.customers.add_address(code, "ship_to", SHIP_1)
    shell.customers.add_address(code, "bill_to", SHIP_1)
    return code
