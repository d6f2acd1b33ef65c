"""A throwaway PostgreSQL server for the tests: `initdb` and `pg_ctl` into a temp dir, on a free
loopback port and a unix socket in that dir. No mocks: the tests run against the real server.

`initdb` refuses to run as root, and CI runs as root, so as root the server runs as the `postgres`
OS user (`runuser -u postgres --`) in a temp dir that user owns. Local (unix socket) connections
are trusted, for the fixture's own set-up; TCP connections need the password (scram-sha-256), which
the app reads from a PGPASSFILE written here, never from a URL or a command line.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
PASSWORD = "orderq-test-pw"  # the throwaway server's only secret; in PGPASSFILE, never in a URL
TEMPLATE = "orderq_template"


def find_binary(name: str) -> str:
    """`name` (initdb, pg_ctl, postgres) on PATH, else in Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install -y postgresql)")


#: settings of the suite's throwaway servers (`PgServer.start(settings=…)`), beyond fsync=off: nothing
#: on them must survive a crash, and no standby ever follows them, so they write as little WAL as a
#: server can. With them, and CREATE DATABASE … STRATEGY FILE_COPY, a test's copy of the 300-order
#: demo took 0.35 s (median of 8) against 0.68 s with the defaults and WAL_LOG, two servers measured
#: side by side at load 8-12. Benchmarks keep the defaults (bench/ starts its servers without these),
#: so their figures stay those of an ordinary server.
SUITE_SETTINGS = ("wal_level=minimal", "max_wal_senders=0", "full_page_writes=off", "synchronous_commit=off",
                  "checkpoint_timeout=3600", "max_wal_size=4GB")
#: how each test's database is copied from its template (see SUITE_SETTINGS)
COPY_STRATEGY = "FILE_COPY"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    port: int = 0
    _as_postgres: bool = field(default=False, repr=False)
    _serial: int = 0
    _wal_minimal: bool | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", SUPERUSER, "--", *cmd] if self._as_postgres else list(cmd)
        proc = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr or proc.stdout}")

    @classmethod
    def start(cls, settings: tuple[str, ...] = ()) -> "PgServer":
        """initdb and start a server; `settings`: more `-c name=value` for it (the suite's SUITE_SETTINGS)."""
        root = Path(tempfile.mkdtemp(prefix="orderq-pg-"))
        server = cls(root, _free_port(), os.geteuid() == 0)
        if server._as_postgres:
            pw = pwd.getpwnam(SUPERUSER)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        pwfile = root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if server._as_postgres:
            os.chown(pwfile, pwd.getpwnam(SUPERUSER).pw_uid, -1)
        server._run(find_binary("initdb"), "-D", str(server.data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        pwfile.unlink()
        opts = (f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=200 -c shared_buffers=32MB" + "".join(f" -c {kv}" for kv in settings))
        server._run(find_binary("pg_ctl"), "-D", str(server.data), "-o", opts, "-l", str(root / "log"), "-w", "start")
        server.passfile.write_text(f"127.0.0.1:{server.port}:*:{SUPERUSER}:{PASSWORD}\n")
        server.passfile.chmod(0o600)  # libpq ignores a pgpass file others can read
        return server

    def restart(self) -> None:
        """`pg_ctl restart` (fast: every session is ended, as in a failover or an operator's restart),
        back on the same port and socket once it accepts connections again."""
        self._run(find_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-l", str(self.root / "log"), "-w",
                  "restart")

    def stop(self) -> None:
        try:
            self._run(find_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def admin(self) -> psycopg.Connection:
        """A superuser session over the unix socket (trusted), autocommit: for CREATE DATABASE."""
        return psycopg.connect(host=str(self.root), port=self.port, user=SUPERUSER, dbname="postgres",
                               autocommit=True)

    def url(self, dbname: str, *, password: str | None = None) -> str:
        """The app's URL of `dbname` over TCP; its password comes from `env()`'s PGPASSFILE unless given."""
        auth = f"{SUPERUSER}:{password}" if password is not None else SUPERUSER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def env(self) -> dict[str, str]:
        return {"PGPASSFILE": str(self.passfile)}

    def new_database(self, *, template: str = "template0") -> str:
        """A fresh database (a copy of `template`); returns its name. Copied file by file on a server
        with wal_level=minimal (SUITE_SETTINGS), else block by block through the WAL (the default)."""
        self._serial += 1
        name = f"t{os.getpid()}_{self._serial}"
        with self.admin() as c:
            strategy = COPY_STRATEGY if self._minimal_wal(c) else "WAL_LOG"
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY {strategy}')
        return name

    def _minimal_wal(self, c: psycopg.Connection) -> bool:
        if self._wal_minimal is None:
            self._wal_minimal = c.execute("SHOW wal_level").fetchone()[0] == "minimal"
        return self._wal_minimal

    def make_template(self) -> None:
        """An initialised orderq database that each test's database is copied from (fast)."""
        from db.store import Store

        with self.admin() as c:
            c.execute(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
        os.environ.setdefault("PGPASSFILE", str(self.passfile))
        Store.open(self.url(TEMPLATE), create=True).close()
