"""Fixtures for the SSH tests: the real OpenSSH client against a real `orderq serve` process.

- `keys`: ed25519 key pairs made with ssh-keygen (alice, bob, sam, carol registered; stranger not).
- `serve(...)`: starts `orderq serve --port 0` on 127.0.0.1 and reads the port from its log.
- `tmux`: a private tmux server for real-terminal sessions (resize, keys, screen text).
- `PipeClient`: `ssh -tt` with pipes, for many sessions at once and for killing the client.
- `AsyncClient`: an asyncssh client, for what OpenSSH will not send (a 70000x70000 window, a
  connection kept open after a refusal).
- `StallingProxy`: a TCP proxy on loopback that can stop forwarding without closing, as a dead
  network path does.
Everything polls with a deadline; nothing sleeps a fixed time.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, connect_db, copy_db, run_cli, template_db
from tests.helpers import clean_env, wait_for  # noqa: F401 - the ssh tests import them from here

FAKE_APP = Path(__file__).with_name("fake_app.py")
ORDERQ = Path(sys.executable).parent / "orderq"
SSH_ENV_VARS = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK")


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("alice", "bob", "sam", "carol", "stranger"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)],
                       check=True, capture_output=True)
        out[name] = d / name
    return out


@pytest.fixture(scope="session")
def ssh_db_template(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Path:
    """Made once: the demo database (300 orders, seed 1) with alice's, bob's, sam's and carol's keys."""
    p = template_db(tmp_path_factory, "ssh-template")
    run_cli("--db", str(p), "demo", "--orders", "300", "--seed", "1", check=True)
    # the demo desk is mid-morning, its reps each working an order: the tests start from a desk
    # where nobody holds a claim, so what a session claims and gives back is all that is held
    for (number,) in db_rows(p, "SELECT number FROM orders WHERE claimed_by IS NOT NULL"):
        run_cli("--db", str(p), "force-release", number, "--user", "sam", "--reason", "test desk", check=True)
    for name in ("alice", "bob", "sam", "carol"):
        run_cli("--db", str(p), "users", "key", "add", name, f"{keys[name]}.pub", check=True)
    assert not isinstance(p, Path) or not Path(f"{p}-wal").exists() or Path(f"{p}-wal").stat().st_size == 0
    return p


@pytest.fixture
def ssh_db(ssh_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template (stranger's key is not registered)."""
    if not isinstance(ssh_db_template, Path):
        return copy_db(ssh_db_template, tmp_path / "orderq.db")
    p = tmp_path / "orderq.db"
    shutil.copyfile(ssh_db_template, p)
    return p


def db_rows(db: Path, sql: str, *args: object) -> list[tuple]:
    """What the database says right now (a short read, as any other session would do)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) if isinstance(db, Path) else connect_db(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


class Serve:
    """One `orderq serve` process."""

    def __init__(self, db: Path, workdir: Path, *, fake: bool = True, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, host_key: Path | str | None = None) -> None:
        self.db = db
        self.workdir = workdir
        self.markers = workdir / "markers"
        self.markers.mkdir(parents=True, exist_ok=True)
        self.logfile = workdir / f"serve-{uuid.uuid4().hex[:6]}.log"
        cmd = [str(ORDERQ), "--db", str(db), "serve", "--port", "0"]
        if host_key != "":  # "" = the default place, beside the database
            cmd += ["--host-key", str(host_key or workdir / "host_key")]
        cmd += args
        if fake:
            cmd += ["--command", f"{sys.executable} {FAKE_APP} {{user}} {{screen}}"]
        self._log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._log, cwd=REPO,
                                     env=clean_env(ORDERQ_TEST_MARKERS=str(self.markers), **(env or {})),
                                     start_new_session=True)
        m = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)", 20)
        self.port = int(m.group(1))

    @property
    def log(self) -> str:
        return self.logfile.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 10) -> re.Match:
        def found() -> re.Match | None:
            m = re.search(pattern, self.log)
            if m is None and self.proc.poll() is not None:
                raise AssertionError(f"orderq serve exited {self.proc.returncode}:\n{self.log}")
            return m

        return wait_for(found, timeout, f"{pattern!r} in the server log")  # type: ignore[return-value]

    def ssh_argv(self, key: Path, user: str, *extra: str, known_hosts: str = "/dev/null",
                 strict: str = "no", port: int | None = None) -> list[str]:
        """`port`: another way in (a proxy in front of the server)."""
        return ["ssh", "-o", f"StrictHostKeyChecking={strict}", "-o", f"UserKnownHostsFile={known_hosts}",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10", "-F", "/dev/null", "-i", str(key), "-p", str(port or self.port),
                *extra, f"{user}@127.0.0.1"]

    def run_ssh(self, key: Path, user: str, *extra: str, command: list[str] = (), timeout: float = 20,
                **kw) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
        return subprocess.run([*self.ssh_argv(key, user, *extra, **kw), *command], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=clean_env())

    def markers_named(self, name: str) -> list[Path]:
        return sorted(self.markers.glob(f"{name}-*"))

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def serve(ssh_db: Path, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def _start(*args: str, fake: bool = True, db: Path | None = None, env: dict[str, str] | None = None,
               host_key: Path | str | None = None) -> Serve:
        s = Serve(db or ssh_db, tmp_path, fake=fake, args=args, env=env, host_key=host_key)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.stop()


class PipeClient:
    """`ssh -tt` with pipes: a PTY is requested though no terminal is attached."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=clean_env(TERM="xterm-256color"))
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return
            with self._lock:
                self._buf += chunk

    @property
    def text(self) -> str:
        with self._lock:
            return self._buf.decode(errors="replace")

    def expect(self, pattern: str, timeout: float = 10) -> re.Match:
        def found() -> re.Match | None:
            return re.search(pattern, self.text)

        try:
            return wait_for(found, timeout, f"{pattern!r} from ssh")  # type: ignore[return-value]
        except AssertionError as e:
            raise AssertionError(f"{e}; got so far: {self.text!r}") from None

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self._t.join(2)


@pytest.fixture
def pipe_client() -> Iterator[Callable[[list[str]], PipeClient]]:
    clients: list[PipeClient] = []

    def _open(argv: list[str]) -> PipeClient:
        c = PipeClient(argv)
        clients.append(c)
        return c

    yield _open
    for c in clients:
        c.close()


async def await_for(pred: Callable[[], object], timeout: float, what: str) -> object:
    """wait_for for async tests: it polls in a thread, so the loop the client runs on keeps running."""
    return await asyncio.to_thread(wait_for, pred, timeout, what)


class AsyncClient:
    """One asyncssh client connection and, once `open` is called, one session's output."""

    def __init__(self, conn: object) -> None:
        self.conn = conn
        self.out = bytearray()
        self.proc: object | None = None
        self._pump: asyncio.Task | None = None

    @classmethod
    async def connect(cls, server: Serve, key: Path, user: str, **kw: object) -> AsyncClient:
        import asyncssh

        conn = await asyncssh.connect("127.0.0.1", server.port, username=user, client_keys=[str(key)],
                                      known_hosts=None, agent_path=None, preferred_auth="publickey", **kw)
        return cls(conn)

    async def open(self, term_size: tuple[int, int], command: str | None = None) -> None:
        self.proc = await self.conn.create_process(command, term_type="xterm-256color",  # type: ignore[attr-defined]
                                                   term_size=term_size, encoding=None)
        self._pump = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            chunk = await self.proc.stdout.read(65536)  # type: ignore[attr-defined]
            if not chunk:
                return
            self.out += chunk

    @property
    def text(self) -> str:
        return self.out.decode(errors="replace")

    async def expect(self, pattern: str, timeout: float = 10) -> re.Match:
        def found() -> re.Match | None:
            return re.search(pattern, self.text)

        try:
            return await await_for(found, timeout, f"{pattern!r} from the session")  # type: ignore[return-value]
        except AssertionError as e:
            raise AssertionError(f"{e}; got so far: {self.text[-2000:]!r}") from None

    def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        self.conn.close()  # type: ignore[attr-defined]


class StallingProxy:
    """Forwards TCP from its own loopback port to the server's, until `stall()`: then it stops
    reading and writing in both directions but keeps both sockets open, so neither end sees a
    FIN or RST — what a network path that stops forwarding looks like to the server. It runs on
    its own event loop in a thread, so the test's blocking polls do not stop it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._flowing: asyncio.Event | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._flowing = asyncio.Event()
        self._flowing.set()
        server = self.loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        while True:
            await self._flowing.wait()
            data = await reader.read(65536)
            if not data:
                writer.close()
                return
            await self._flowing.wait()  # bytes read just before the stall are held, never delivered
            writer.write(data)
            await writer.drain()

    def stall(self) -> None:
        assert self._flowing is not None
        self.loop.call_soon_threadsafe(self._flowing.clear)

    def close(self) -> None:
        def _stop() -> None:
            for w in self._writers:
                w.transport.abort()
            self.loop.stop()

        self.loop.call_soon_threadsafe(_stop)
        self._thread.join(5)

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
