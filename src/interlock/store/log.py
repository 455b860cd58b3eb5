"""`Log`: the one path for appending to a log, and the reads the server serves.

Append (`Log.append`, or `LogWriter` in front of it for group commit):

1. prepare, outside any lock — envelope shape, statement shape, canonical bytes, and the
   Ed25519 check against the key the agreement registers (`prepare`);
2. in ONE write transaction holding the log's write lock (SQLite `BEGIN IMMEDIATE`,
   PostgreSQL `SELECT … FOR UPDATE` on the `logs` row): bring the in-memory state up to the
   database (entries other processes appended since), give each statement its index and
   integration time, authorise it with the engine and fold it in if accepted
   (`Evaluator.admit`: one authorisation, reusing the statement `prepare` parsed),
   insert the entries, the new complete-subtree rows and a newly signed checkpoint;
3. commit; only then build the acknowledgements (index, time, checkpoint, inclusion proof).

A refused statement writes nothing; if the transaction fails, the in-memory state is
dropped and rebuilt from the database on next use, so memory never runs ahead of disk.
`integrated_at` is the caller's `now`, truncated to the second and never earlier than the
previous entry's (the store reads no clock).  Entries read back from the database are
folded into the engine with `signature_ok=True`: they were verified on the way in, and
auditing the stored log is `interlock verify`'s job.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select

from interlock.agreement import Agreement, load_agreement
from interlock.checkpoint import Checkpoint, parse_cosignature, sign_checkpoint, verify_cosignature
from interlock.engine import Evaluator, Status, evaluate
from interlock.errors import (
    LogCorruptError,
    ProofRequestError,
    UnknownEntryError,
)
from interlock.note import Signer, split_note
from interlock.statements import Entry
from interlock.store import tree
from interlock.store.database import WRITE
from interlock.store.prepare import Keyring, Prepared, keyring, leaf_bytes, prepare
from interlock.store.records import Ack, Cosignature, LogInfo, Refusal, StoredCheckpoint
from interlock.store.schema import checkpoints, cosignatures, entries, logs, nodes
from interlock.timeutil import format_timestamp, parse_timestamp
from interlock.tlog import (
    CompactRange,
    consistency_proof_from,
    inclusion_proof_from,
    leaf_hash,
    root_from,
)

_LOAD_CHUNK = 2000
_HEAD = (  # built once: constructing a statement costs more than running this one
    select(checkpoints.c.size, checkpoints.c.root, checkpoints.c.note, checkpoints.c.created_at)
    .where(checkpoints.c.log_id == bindparam("log"))
    .order_by(checkpoints.c.size.desc())
    .limit(1)
)


@dataclass
class _State:
    """What the log keeps in memory; always equal to the database at `size` when valid."""

    size: int
    tree: CompactRange
    last_time: datetime | None
    evaluator: Evaluator
    checkpoint: StoredCheckpoint


_ENTRY_COLUMNS = (entries, ("log_id", "idx", "integrated_at", "envelope", "leaf_hash", "author", "key_id",
                             "nonce", "type"),
                  ("text", "int8", "text", "text", "bytea", "text", "text", "text", "text"))
_NODE_COLUMNS = (nodes, ("log_id", "level", "idx", "hash"), ("text", "int2", "int8", "bytea"))


def _insert_many(conn: Connection, into: tuple[Any, tuple[str, ...], tuple[str, ...]],
                 rows: list[tuple[Any, ...]]) -> None:
    """Positional rows straight through the driver, in the connection's transaction: building
    SQLAlchemy parameter sets cost more per row than the insert itself.  PostgreSQL gets one
    binary `COPY … FROM STDIN` (psycopg's pipelined `executemany` spends ~50 µs of Python a row);
    SQLite one `executemany`.  Values are str, int, bytes."""
    if not rows:
        return
    table, columns, types = into
    if conn.dialect.name == "postgresql":
        copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn.exec_driver_sql(sql, rows)


def row_to_entry(row: Any) -> Entry:
    return Entry(row.idx, parse_timestamp(row.integrated_at), envelope=json.loads(row.envelope))


class Log:
    """One log in a database.  Thread-safe; several processes may append to the same log."""

    def __init__(self, engine: Engine, info: LogInfo, signer: Signer | None = None) -> None:
        self.engine = engine
        self.info = info
        self.id = info.id
        self.signer = signer
        self.agreement = load_agreement(info.agreement)
        self._lock = threading.RLock()
        self._state: _State | None = None
        self._durable_size = 0  # a size the database is known to hold (committed); only grows

    # --- appending ----------------------------------------------------------------------

    def prepare(self, envelope: Any) -> Prepared | Refusal:
        """Check one submission's shape and signature (no database, no lock)."""
        return prepare(envelope, self.keyring())

    def keyring(self) -> Keyring:
        """The keys of the agreement version in force as far as memory knows."""
        return keyring(self._current_agreement())

    def _current_agreement(self) -> Agreement:
        """The agreement version in force as far as memory knows (amendments change keys)."""
        state = self._state
        return state.evaluator.agreement if state is not None else self.agreement

    def append(self, envelopes: Sequence[Any], now: datetime) -> list[Ack | Refusal]:
        """Validate, authorise, durably log and acknowledge each submission, in order."""
        return self.append_prepared([self.prepare(e) for e in envelopes], now)

    def append_prepared(self, submissions: Sequence[Prepared | Refusal], now: datetime) -> list[Ack | Refusal]:
        """`append` for submissions already `prepare`d (by `LogWriter`, in callers' threads)."""
        if self.signer is None:
            raise LogCorruptError(f"log {self.id} was opened without its signer key; it cannot append")
        if now.tzinfo is None:
            raise ValueError("`now` must be timezone-aware")
        moment = parse_timestamp(format_timestamp(now.replace(microsecond=0)))
        with self._lock:
            try:
                return self._append_locked(submissions, moment)
            except BaseException:
                self._state = None  # memory may be ahead of the database: rebuild on next use
                raise

    def _append_locked(self, submissions: Sequence[Prepared | Refusal], moment: datetime) -> list[Ack | Refusal]:
        assert self.signer is not None
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            self._lock_log(conn)
            state = self._sync(conn)
            if state.last_time is not None and moment < state.last_time:
                moment = state.last_time
            when = format_timestamp(moment)
            results, accepted, rows, new_nodes = self._authorise(state, submissions, moment, when)
            if not accepted:
                return [r for r in results if r is not None]
            _insert_many(conn, _ENTRY_COLUMNS, rows)
            _insert_many(conn, _NODE_COLUMNS, [(self.id, lv, ix, h) for (lv, ix), h in new_nodes.items()])
            size, root = state.size, state.tree.root()
            note = sign_checkpoint(Checkpoint(self.info.origin, size, root), self.signer).decode()
            conn.execute(insert(checkpoints),
                         {"log_id": self.id, "size": size, "root": root, "note": note, "created_at": when})
            state.checkpoint = StoredCheckpoint(size, root, note, when)
            state.last_time = moment

            # Every subtree older than the batch that any of its proofs needs is on the proof
            # path of the batch's first entry, so one fetch for that proof serves them all.
            first = accepted[0][1]
            tree.compute(conn, self.id, lambda r: inclusion_proof_from(r, first, size), new_nodes)
            proofs = tree.batch_inclusion_proofs(tree.MapReader(new_nodes, self.id), [i for _, i in accepted], size)
            all_proofs = [proofs[index] for _, index in accepted]
        # committed: now, and only now, acknowledge
        self._durable_size = max(self._durable_size, size)
        for (position, index), proof in zip(accepted, all_proofs, strict=True):
            results[position] = Ack(index, when, size, note, tuple(proof))
        return [r for r in results if r is not None]

    def _authorise(
        self, state: _State, submissions: Sequence[Prepared | Refusal], moment: datetime, when: str
    ) -> tuple[list[Ack | Refusal | None], list[tuple[int, int]], list[tuple[Any, ...]], dict[tree.Key, bytes]]:
        """Give each submission its index and let the engine judge it; fold in the accepted ones.

        Returns one result slot per submission (None for accepted ones, filled after commit),
        the accepted (position, index) pairs, their entry rows and the new subtree rows."""
        results: list[Ack | Refusal | None] = []
        accepted: list[tuple[int, int]] = []
        rows: list[tuple[Any, ...]] = []
        new_nodes: dict[tree.Key, bytes] = {}
        for position, item in enumerate(submissions):
            if isinstance(item, Refusal):
                results.append(item)
                continue
            entry = Entry(state.size, moment, envelope=item.envelope)
            ok = item.verdict_under(state.evaluator.agreement)
            rejection = state.evaluator.admit(entry, signature_ok=ok, statement=item.statement)
            if rejection is not None:
                results.append(Refusal(rejection.code, rejection.reason, 403))
                continue
            leaf = leaf_hash(leaf_bytes(item.envelope_json, when))
            for level, index, value in state.tree.append(leaf):
                new_nodes[(level, index)] = value
            statement = item.statement
            rows.append((self.id, state.size, when, item.envelope_json, leaf,
                         statement.author, statement.key, statement.nonce, statement.type))
            accepted.append((position, state.size))
            results.append(None)
            state.size += 1
        return results, accepted, rows, new_nodes

    def _lock_log(self, conn: Connection) -> None:
        """Serialise writers of this log across processes (SQLite: BEGIN IMMEDIATE did it)."""
        if conn.dialect.name == "postgresql":
            found = conn.execute(select(logs.c.id).where(logs.c.id == self.id).with_for_update()).first()
            if found is None:
                raise LogCorruptError(f"log {self.id} has disappeared from the database")

    # --- the in-memory state ------------------------------------------------------------

    def _head(self, conn: Connection) -> tuple[int, bytes, str, str]:
        row = conn.execute(_HEAD, {"log": self.id}).first()
        if row is None:
            raise LogCorruptError(f"log {self.id} has no checkpoint, not even the empty one")
        self._durable_size = max(self._durable_size, int(row.size))  # committed, so durable
        return int(row.size), bytes(row.root), row.note, row.created_at

    def _sync(self, conn: Connection) -> _State:
        """Bring the in-memory state up to the database's newest checkpoint (call under the lock)."""
        size, root, note, created = self._head(conn)
        state = self._state
        if state is not None and (size < state.size or (size == state.size and root != state.checkpoint.root)):
            state = None
        if state is None:
            state = _State(0, CompactRange(), None, Evaluator(self.agreement),
                           StoredCheckpoint(0, b"", "", ""))
        if size > state.size:
            last = None
            for entry in self._load(conn, state.size, size):
                state.evaluator.append(entry, signature_ok=True)
                last = entry
            assert last is not None
            state.last_time = last.integrated_at
            state.tree = tree.compute(conn, self.id, lambda r: CompactRange.from_reader(r, size))
            state.size = size
        if state.tree.root() != root:
            self._state = None
            raise LogCorruptError(f"log {self.id}: the stored tree does not match checkpoint {size}")
        state.checkpoint = StoredCheckpoint(size, root, note, created)
        self._state = state
        self._durable_size = max(self._durable_size, size)
        return state

    def _load(self, conn: Connection, start: int, end: int) -> Iterator[Entry]:
        expected = start
        for chunk in range(start, end, _LOAD_CHUNK):
            rows = conn.execute(
                select(entries.c.idx, entries.c.integrated_at, entries.c.envelope)
                .where(entries.c.log_id == self.id, entries.c.idx >= chunk,
                       entries.c.idx < min(end, chunk + _LOAD_CHUNK))
                .order_by(entries.c.idx)
            )
            for row in rows:
                if row.idx != expected:
                    raise LogCorruptError(f"log {self.id}: entry {expected} is missing")
                expected += 1
                yield row_to_entry(row)
        if expected != end:
            raise LogCorruptError(f"log {self.id}: entry {expected} is missing")

    def refresh(self) -> int:
        """Catch up with what other processes appended; returns the tree size."""
        with self._lock, self.engine.connect() as conn, conn.begin():
            return self._sync(conn).size

    # --- reads --------------------------------------------------------------------------

    def status(self, as_of: datetime) -> Status:
        """The engine's status of this log as of `as_of`: from the state kept incrementally in
        memory, or — for a moment before the newest entry — evaluated afresh on the prefix."""
        with self._lock, self.engine.connect() as conn, conn.begin():
            state = self._sync(conn)
            if state.last_time is None or as_of >= state.last_time:
                return state.evaluator.status(as_of)
            prefix = list(itertools.takewhile(lambda e: e.integrated_at <= as_of, self._load(conn, 0, state.size)))
        return evaluate(self.agreement, prefix, as_of, signatures=[True] * len(prefix))

    def size(self) -> int:
        with self._read() as conn:
            return self._head(conn)[0]

    def entries(self, start: int = 0, limit: int = 100) -> list[Entry]:
        """Entries start, start+1, … (at most `limit`, fewer at the end of the log)."""
        if start < 0 or limit < 0:
            raise ProofRequestError("start and limit must not be negative")
        with self._read() as conn:
            rows = conn.execute(
                select(entries.c.idx, entries.c.integrated_at, entries.c.envelope)
                .where(entries.c.log_id == self.id, entries.c.idx >= start, entries.c.idx < start + limit)
                .order_by(entries.c.idx)
            )
            return [row_to_entry(row) for row in rows]

    def entry(self, index: int) -> Entry:
        found = self.entries(index, 1) if index >= 0 else []
        if not found:
            raise UnknownEntryError(f"log {self.id} has no entry {index}")
        return found[0]

    def latest_checkpoint(self) -> StoredCheckpoint:
        """The newest checkpoint with every cosignature received for it."""
        with self._read() as conn:
            size, root, note, created = self._head(conn)
            return StoredCheckpoint(size, root, note, created, self._cosignatures(conn, size))

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint the log signed at exactly `size`, if it signed one."""
        with self._read() as conn:
            row = conn.execute(
                select(checkpoints).where(checkpoints.c.log_id == self.id, checkpoints.c.size == size)
            ).first()
            if row is None:
                return None
            return StoredCheckpoint(row.size, bytes(row.root), row.note, row.created_at,
                                    self._cosignatures(conn, size))

    def _cosignatures(self, conn: Connection, size: int) -> tuple[Cosignature, ...]:
        rows = conn.execute(
            select(cosignatures.c.key_name, cosignatures.c.line, cosignatures.c.received_at)
            .where(cosignatures.c.log_id == self.id, cosignatures.c.size == size)
            .order_by(cosignatures.c.key_name)
        )
        return tuple(Cosignature(r.key_name, r.line, r.received_at) for r in rows)

    def add_cosignature(
        self, size: int, line: str, received_at: datetime, witness_key: str | None = None
    ) -> Cosignature:
        """Store a witness's cosignature line on the checkpoint of `size` (replacing that
        witness's earlier line for it).  With `witness_key` (its vkey) the line is verified
        first.  Raises `ProofRequestError` if the log signed no checkpoint of that size,
        `CosignatureError` if the line is malformed or does not verify."""
        line = line if line.endswith("\n") else line + "\n"
        name = parse_cosignature(line).name
        stored = self.checkpoint(size)
        if stored is None:
            raise ProofRequestError(f"log {self.id} signed no checkpoint of size {size}")
        if witness_key is not None:
            verify_cosignature(split_note(stored.note)[0], line, witness_key)
        cosig = Cosignature(name, line, format_timestamp(received_at))
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(delete(cosignatures).where(
                cosignatures.c.log_id == self.id, cosignatures.c.size == size, cosignatures.c.key_name == name))
            conn.execute(insert(cosignatures), {"log_id": self.id, "size": size, "key_name": name,
                                                "line": line, "received_at": cosig.received_at})
        return cosig

    def _read(self) -> Connection:
        """A connection for reads that need no transaction: no BEGIN/ROLLBACK round trips
        (every row read here is immutable once written, and the head only grows)."""
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _size_at_least(self, conn: Connection, size: int | None) -> int:
        """The head size, or — when `size` is given and memory already knows the log has at
        least that many entries — `size` itself, without asking the database."""
        if size is not None and 0 <= size <= self._durable_size:
            return self._durable_size
        return self._head(conn)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size` (default: newest)."""
        with self._read() as conn:
            head = self._size_at_least(conn, size)
            size = head if size is None else size
            if not 0 <= index < size or size > head:
                raise ProofRequestError(f"no inclusion proof for entry {index} in a tree of size {size} "
                                        f"(the log has {head} entries)")
            return tree.compute(conn, self.id, lambda r: inclusion_proof_from(r, index, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof from tree size `old_size` to `new_size` (default: newest)."""
        with self._read() as conn:
            head = self._size_at_least(conn, new_size)
            new = head if new_size is None else new_size
            if not 0 <= old_size <= new <= head:
                raise ProofRequestError(f"no consistency proof from size {old_size} to {new} "
                                        f"(the log has {head} entries)")
            return tree.compute(conn, self.id, lambda r: consistency_proof_from(r, old_size, new))

    def root(self, size: int) -> bytes:
        """The root hash of the tree of `size` entries (any size up to the newest)."""
        with self._read() as conn:
            head = self._size_at_least(conn, size)
            if not 0 <= size <= head:
                raise ProofRequestError(f"no tree of size {size} (the log has {head} entries)")
            return tree.compute(conn, self.id, lambda r: root_from(r, size))

    def subtree(self, level: int, index: int) -> bytes:
        """The hash of one complete subtree (level 0: a leaf hash); for C2SP tiles."""
        found = self.subtrees(level, index, 1)
        if not found:
            raise ProofRequestError(f"no complete subtree at level {level}, index {index}")
        return found[0]

    def subtrees(self, level: int, start: int, count: int) -> list[bytes]:
        """Hashes of complete subtrees `start … start+count-1` at `level` that exist (for tiles:
        a level-L tile N is `subtrees(8 * L, 256 * N, 256)`)."""
        with self._read() as conn:
            rows = conn.execute(
                select(nodes.c.idx, nodes.c.hash)
                .where(nodes.c.log_id == self.id, nodes.c.level == level,
                       nodes.c.idx >= start, nodes.c.idx < start + count)
                .order_by(nodes.c.idx)
            )
            out: list[bytes] = []
            for idx, value in rows:
                if idx != start + len(out):
                    break
                out.append(bytes(value))
            return out

    def count_rows(self) -> dict[str, int]:
        """Rows this log holds per table (for tests and `interlock log list`)."""
        with self._read() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)
                                             .where(table.c.log_id == self.id)).scalar_one())
                for table in (entries, nodes, checkpoints, cosignatures)
            }
