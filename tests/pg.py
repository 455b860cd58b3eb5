"""A throwaway PostgreSQL cluster for tests and benchmarks, and the two-backend `db_url` fixture.

The cluster comes from the distribution's package (`/usr/lib/postgresql/<v>/bin`, installed by
`scripts/ensure-system-deps.sh` when missing).  It lives in a fresh directory under /tmp and
listens only on a unix socket in that directory (no TCP port, so parallel pytest-xdist workers
never collide: each worker starts its own cluster).  initdb and postgres refuse to run as root,
so as root they run as the `postgres` system user (`runuser -u postgres --`) on a directory
owned by that user.  Every test gets its own database (CREATE DATABASE is ~50 ms).

The test cluster runs with `fsync=off`: the crash tests kill the *writer* process, never the
database server, so server-side fsync is not what they test.  `benchmarks/log.py` starts a
cluster with `durable=True` (PostgreSQL's defaults) instead.

Registered as a plugin by `tests/conftest.py` (`pytest_plugins`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


class PostgresUnavailableError(RuntimeError):
    """No usable PostgreSQL binaries or system user on this machine."""


def find_bindir() -> Path:
    """The newest `/usr/lib/postgresql/<v>/bin` holding initdb, or the one on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailableError(
        "PostgreSQL is not installed; run `make system-deps` (scripts/ensure-system-deps.sh)"
    )


class PgCluster:
    """One PostgreSQL cluster in a temporary directory, reachable on a unix socket there."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bindir = find_bindir()
        self.durable = durable
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="interlock-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self._counter = itertools.count(1)
        self.running = False
        if self.as_root:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailableError("running as root but there is no `postgres` user") from None
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.dir.chmod(0o755)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            if shutil.which("runuser"):
                command = ["runuser", "-u", "postgres", "--", *command]
            else:  # util-linux without runuser: drop to the postgres user with setpriv
                command = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd=self.dir
        )
        if result.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise PostgresUnavailableError(
                f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}\n{log[-2000:]}"
            )
        return result

    def start(self) -> PgCluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", *([] if self.durable else ["--no-sync"]))
        options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories={self.dir}",
            "-c max_connections=200",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                  "-o", " ".join(options), "start")
        self.running = True
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        if self.running:
            self.running = False
            with contextlib.suppress(PostgresUnavailableError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A plain `postgresql://` URL, as a user would type it (the store adds `+psycopg`)."""
        return f"postgresql://postgres@/{database}?host={self.dir}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(host=str(self.dir), user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway cluster per pytest process (per xdist worker), stopped at the end."""
    cluster = PgCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend: `sqlite:///…` and `postgresql://…`."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


# --- the store on either backend, with the conformance world's keys ------------------------

LOG_SKEY_SEED = b"interlock test log key seed....."  # 32 bytes: a fixed operator key for tests


def log_signer_key() -> str:
    from interlock.note import new_signer_key

    return new_signer_key("log.test", seed=LOG_SKEY_SEED)[0]


def northland_agreement() -> bytes:
    return (Path(__file__).parent / "data" / "northland" / "agreement.yaml").read_bytes()


@functools.cache
def northland_hash() -> str:
    from interlock.agreement import load_agreement

    return load_agreement(northland_agreement()).hash


def signed(author: str, nonce: str, kind: str = "note", body: dict[str, object] | None = None,
           *, agreement_hash: str | None = None, issued_at: str = "2026-03-03T08:00:00Z") -> dict[str, object]:
    """A statement of the conformance world, signed with `author`'s key `<author>-1`."""
    from interlock.statements import sign_statement

    statement = {
        "type": kind,
        "agreement": agreement_hash or northland_hash(),
        "author": author, "key": f"{author}-1", "issued_at": issued_at, "nonce": nonce,
        "body": body if body is not None else ({"text": f"note {nonce}"} if kind == "note" else {}),
    }
    return sign_statement(statement, f"{author}-1", hashlib.sha256(author.encode()).digest())


def adoptions() -> list[dict[str, object]]:
    """The three adopt statements that put the conformance agreement into effect."""
    return [signed(p, f"adopt-{p}", "adopt") for p in ("north", "south", "east")]


T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture()
def store(db_url: str) -> Iterator[Any]:
    """An opened (migrated) `Store` on a fresh database of each backend."""
    from interlock.store import Store

    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture()
def log(store: Any) -> Any:
    """The conformance agreement's log in `store`, opened with the test operator key."""
    info = store.register_log(northland_agreement(), log_signer_key(), T0)
    return store.log(info.id, log_signer_key())
