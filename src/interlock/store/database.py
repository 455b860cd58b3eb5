"""Opening a log database by URL, its durability settings, the write lock, migrations.

URLs: `sqlite:///relative.db`, `sqlite:////abs/path.db` (the embedded default) and
`postgresql://user@host/db` (or `postgres://`, `postgresql+psycopg://`), which is driven by
psycopg 3.  In-memory SQLite is refused: each connection would see a different database.

SQLite runs in WAL mode with `synchronous=FULL`: every commit fsyncs the WAL, so an
acknowledged batch survives a power cut, not only a process crash (`NORMAL` in WAL mode may
lose the last commits on power loss).  Group commit amortises that fsync over a batch.
Writers take the database write lock at BEGIN (`BEGIN IMMEDIATE`, waiting up to
`busy_timeout`) so that the read-check-write of an append is serialised across processes.
PostgreSQL keeps its defaults (fsync, synchronous_commit=on); writers lock the log's row
(`SELECT … FOR UPDATE`).  `open_database` brings the schema to the newest Alembic revision
under the same write lock, so concurrent first starts are safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from interlock.errors import DatabaseUnavailableError, DatabaseUrlError

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "interlock_alembic_version"
BUSY_TIMEOUT_MS = 60_000
WRITE = "interlock_write"  # execution option: this transaction will write (take the lock)
_MIGRATION_LOCK = 0x696E746C  # PostgreSQL advisory lock key for migrations ("intl")


def parse_url(url: str) -> URL:
    """A user's database URL → the SQLAlchemy URL interlock uses.  Raises `DatabaseUrlError`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"{url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise DatabaseUrlError(f"use sqlite:///path, not {parsed.drivername}")
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseUrlError("an in-memory SQLite database cannot hold a log; give a file path")
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise DatabaseUrlError(f"PostgreSQL is driven by psycopg 3; write postgresql://, not {parsed.drivername}")
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:///path or postgresql://")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA cache_size = -32768")  # 32 MiB of pages per connection (default 2 MiB)
    cursor.execute("PRAGMA mmap_size = 268435456")  # read through a 256 MiB map: no syscall per page
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_database_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An Engine for `url` with interlock's durability and locking settings (no migration)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.parent.exists():
            raise DatabaseUnavailableError(f"directory {path.parent} does not exist")
        engine = create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=10,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs a round trip per checkout; a connection the server dropped
    # fails once, the pool is invalidated and the next checkout reconnects.
    return create_engine(parsed, pool_size=pool_size, max_overflow=10)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def lock_for_write(conn: Connection) -> None:
    """Call first inside a write transaction on PostgreSQL: serialise migrations.

    (SQLite's BEGIN IMMEDIATE already holds the database write lock.)
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def _alembic_config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe against concurrent callers)."""
    head = head_revision()
    with engine.connect() as probe:
        if current_revision(probe) == head:
            return
        probe.rollback()
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        lock_for_write(conn)
        if current_revision(conn) != head:
            command.upgrade(_alembic_config(conn), "head")


def open_database(url: str, *, pool_size: int = 5) -> Engine:
    """Connect, check the database answers, and migrate it.  Raises `DatabaseUnavailableError`."""
    engine = create_database_engine(url, pool_size=pool_size)
    try:
        migrate(engine)
    except DatabaseError as exc:
        engine.dispose()
        raise DatabaseUnavailableError(database_error_message(url, exc)) from None
    return engine


def database_error_message(url: str, exc: DatabaseError) -> str:
    """A person's sentence for a driver error met while opening `url`.

    The URL is shown without its password.  `OperationalError` (cannot connect, locked, no
    such directory) → "cannot open URL: reason";
    any other `DatabaseError` (SQLite's "file is not a database", raised by the first PRAGMA)
    → "URL is not an interlock database (reason)".
    """
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    url = make_url(url).render_as_string(hide_password=True)
    if isinstance(exc, OperationalError):
        return f"cannot open {url}: {reason}"
    return f"{url} is not an interlock database ({reason})"
