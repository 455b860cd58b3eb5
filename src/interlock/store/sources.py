"""Sources `audit` reads a log from: a database (every row, trusted for nothing) or files.

`DatabaseSource` streams the rows of one log in index order, never through `Log` (whose
in-memory state would hide what the tables hold).  It does not migrate the database.
`FilesSource` reads an entries file (JSON lines) and the agreement file, optionally with
the log's current signed checkpoint.  A server source (`--server URL`) plugs in the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import DatabaseError

from interlock.errors import DatabaseUnavailableError, EntriesFileError, UnknownLogError
from interlock.statements import parse_entries
from interlock.store.audit import CheckpointRecord, EntryRecord
from interlock.store.database import create_database_engine, database_error_message
from interlock.store.schema import checkpoints, cosignatures, entries, logs, nodes
from interlock.timeutil import format_timestamp


class DatabaseSource:
    """One log in a database, as its tables hold it."""

    one_checkpoint_per_batch = True

    def __init__(self, url: str, log_id: str | None = None) -> None:
        self.engine: Engine = create_database_engine(url)
        try:
            if "logs" not in inspect(self.engine).get_table_names():
                raise UnknownLogError(f"{url} holds no interlock logs")
            with self.engine.connect() as conn:
                ids = [r[0] for r in conn.execute(select(logs.c.id).order_by(logs.c.id))]
        except DatabaseError as exc:
            self.engine.dispose()
            raise DatabaseUnavailableError(database_error_message(url, exc)) from None
        if log_id is None:
            if len(ids) != 1:
                raise UnknownLogError(
                    f"the database holds {len(ids)} logs; name one with --log ({', '.join(ids) or 'none'})"
                )
            log_id = ids[0]
        if log_id not in ids:
            raise UnknownLogError(f"the database has no log {log_id!r} (it has: {', '.join(ids) or 'none'})")
        self.log_id = log_id
        # One read transaction for the whole audit, so a log appended to meanwhile is seen at
        # one moment: SQLite's WAL snapshot, PostgreSQL's REPEATABLE READ snapshot.
        postgres = self.engine.dialect.name == "postgresql"
        options: dict[str, Any] = {"isolation_level": "REPEATABLE READ"} if postgres else {}
        self._conn = self.engine.connect().execution_options(**options)
        self._conn.begin()
        self._row = self._conn.execute(select(logs).where(logs.c.id == log_id)).one()
        self.description = f"log {log_id} in {self.engine.url.render_as_string()}"

    def close(self) -> None:
        self._conn.close()
        self.engine.dispose()

    def agreement(self) -> bytes:
        return bytes(self._row.agreement)

    def claimed_log_key(self) -> str | None:
        return str(self._row.public_key)

    def origin(self) -> str | None:
        return str(self._row.origin)

    def count(self) -> int | None:
        return int(self._conn.execute(
            select(func.count()).select_from(entries).where(entries.c.log_id == self.log_id)
        ).scalar_one())

    def _stream(self, query: Any) -> Iterator[Any]:
        """Rows in batches (a server-side cursor on PostgreSQL); one stream at a time."""
        yield from self._conn.execution_options(stream_results=True, yield_per=2000).execute(query)

    def entries(self) -> Iterator[EntryRecord]:
        query = select(entries).where(entries.c.log_id == self.log_id).order_by(entries.c.idx)
        for row in self._stream(query):
            try:
                envelope = json.loads(row.envelope)
            except ValueError:
                envelope = None
            yield EntryRecord(
                int(row.idx), row.integrated_at, envelope, row.envelope, bytes(row.leaf_hash),
                {"author": row.author, "key_id": row.key_id, "nonce": row.nonce, "type": row.type},
            )

    def checkpoints(self) -> Iterator[CheckpointRecord]:
        lines: dict[int, list[str]] = {}
        for row in self._conn.execute(select(cosignatures).where(cosignatures.c.log_id == self.log_id)
                                      .order_by(cosignatures.c.size, cosignatures.c.key_name)):
            lines.setdefault(int(row.size), []).append(row.line)
        query = select(checkpoints).where(checkpoints.c.log_id == self.log_id).order_by(checkpoints.c.size)
        for row in self._stream(query):
            yield CheckpointRecord(row.note, int(row.size), bytes(row.root), tuple(lines.get(int(row.size), ())))

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None:
        query = (select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(nodes.c.log_id == self.log_id)
                 .order_by(nodes.c.level, nodes.c.idx))
        return ((int(r.level), int(r.idx), bytes(r.hash)) for r in self._stream(query))


class FilesSource:
    """An entries file and its agreement file, with the log's signed checkpoint if given."""

    one_checkpoint_per_batch = False

    def __init__(self, entries_text: str, agreement: bytes, *, head: str | None = None,
                 description: str = "entries file") -> None:
        parsed = parse_entries(entries_text)
        for entry in parsed:
            if entry.envelope is None:
                raise EntriesFileError(f"entry {entry.index} is unsigned; a log holds signed entries only")
        self._entries = parsed
        self._agreement = agreement
        self._head = head
        self.description = description

    def agreement(self) -> bytes:
        return self._agreement

    def claimed_log_key(self) -> str | None:
        return None

    def origin(self) -> str | None:
        return None

    def count(self) -> int | None:
        return len(self._entries)

    def entries(self) -> Iterator[EntryRecord]:
        for entry in self._entries:
            yield EntryRecord(entry.index, format_timestamp(entry.integrated_at), entry.envelope)

    def checkpoints(self) -> Iterator[CheckpointRecord]:
        if self._head is not None:
            yield CheckpointRecord(self._head)

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None:
        return None
