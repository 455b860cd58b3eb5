"""Auditing a whole log from any source: the engine of `interlock verify`.

A `LogSource` yields what a log claims — the agreement, the entries in order, the signed
checkpoints with their cosignatures, and (a database only) the stored tree nodes and the
columns that repeat the envelope.  `audit` trusts none of it.  It

1. reads every entry: index without gaps, envelope in RFC 8785 form, leaf hash recomputed
   (and compared with the stored one), stored columns equal to the signed statement,
   integration times never going back;
2. checks every statement signature (in a process pool, all cores) and lets the engine
   authorise each entry in order — a stored log holds only accepted entries, so any
   rejection is a fault;
3. rebuilds the tree level by level and compares every stored complete-subtree row;
4. checks every checkpoint: the trusted log key's signature, the origin, the root against
   the rebuilt tree at its size, the stored size/root columns against the signed text, and
   — where the source writes one checkpoint per batch — that the newest covers every entry;
   witness cosignatures against the trusted witness keys;
5. proves the saved checkpoint (if any) consistent with the newest one, with an RFC 9162
   consistency proof built from the rebuilt tree and checked by the RFC verifier;
6. recomputes the status.

The first fault found names the lowest bad entry where there is one.  Memory: 64 bytes
per entry for the tree (all levels packed in bytearrays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from interlock.agreement import Agreement, load_agreement
from interlock.checkpoint import SignedCheckpoint, open_checkpoint, parse_checkpoint, verify_cosignature
from interlock.errors import InterlockError
from interlock.note import split_note
from interlock.parallel import ChunkPool
from interlock.statements import Entry, parse_statement
from interlock.statements.dsse import signature_valid
from interlock.store.prepare import canonical_envelope, leaf_bytes, open_canonical, registered_key
from interlock.timeutil import format_timestamp, parse_timestamp
from interlock.tlog import (
    EMPTY_ROOT,
    consistency_proof_from,
    leaf_hash,
    node_hash,
    root_from,
    verify_consistency,
)

Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total): phases "entries", "tree", "checkpoints"."""

_CHUNK = 4096
_MAX_PROBLEMS = 50


@dataclass(frozen=True)
class EntryRecord:
    """One entry as a source holds it; the optional fields exist only in a database."""

    index: int
    integrated_at: str
    envelope: Any
    envelope_text: str | None = None
    leaf_hash: bytes | None = None
    columns: dict[str, str] | None = None


@dataclass(frozen=True)
class CheckpointRecord:
    """One signed checkpoint (log signature) with its cosignature lines, as stored."""

    note: str
    size: int | None = None
    root: bytes | None = None
    cosignatures: tuple[str, ...] = ()


class LogSource(Protocol):
    """Where a log comes from: a database, files, or (later) a server."""

    description: str
    one_checkpoint_per_batch: bool  # the newest checkpoint must cover every entry

    def agreement(self) -> bytes: ...
    def claimed_log_key(self) -> str | None: ...
    def origin(self) -> str | None: ...
    def count(self) -> int | None: ...
    def entries(self) -> Iterator[EntryRecord]: ...
    def checkpoints(self) -> Iterator[CheckpointRecord]: ...
    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None: ...


@dataclass(frozen=True)
class Problem:
    message: str
    index: int | None = None  # the entry it concerns, if it concerns one

    def __str__(self) -> str:
        return f"entry {self.index}: {self.message}" if self.index is not None else self.message


@dataclass
class Report:
    """What `audit` found.  `ok` only when there is no problem at all."""

    source: str
    size: int = 0
    root: bytes = EMPTY_ROOT
    log_key: str | None = None
    log_key_trusted: bool = False
    checkpoints: int = 0
    cosignatures: int = 0
    latest: SignedCheckpoint | None = None
    latest_note: str | None = None
    status: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_problem(self) -> Problem | None:
        """The problem on the lowest entry, else the first found."""
        if not self.problems:
            return None
        on_entries = [p for p in self.problems if p.index is not None]
        return min(on_entries, key=lambda p: p.index or 0) if on_entries else self.problems[0]

    def add(self, message: str, index: int | None = None) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(message, index))


# --- per-entry checks, in parallel --------------------------------------------------------

Checked = tuple[bytes, list[str], bool, bool | None]
"""Per entry: leaf hash, problems found, whether the statement is readable, signature verdict
(None: the agreement registers no such key for the author; the engine decides)."""

_AGREEMENTS: dict[bytes, Agreement] = {}


def _agreement(document: bytes) -> Agreement:
    found = _AGREEMENTS.get(document)
    if found is None:
        found = _AGREEMENTS[document] = load_agreement(document)
    return found


def check_record(record: EntryRecord, agreement: Agreement) -> Checked:
    """Everything about one entry that needs no other entry: the leaf recomputed and compared,
    the stored form and columns, the statement's shape, its signature under the key the
    agreement registers.  Pure; runs in the worker processes."""
    problems: list[str] = []
    try:
        if not isinstance(record.envelope, dict):
            raise InterlockError("the envelope is not a JSON object")
        when = format_timestamp(parse_timestamp(record.integrated_at))
        envelope_json = canonical_envelope(record.envelope)
        leaf = leaf_hash(leaf_bytes(envelope_json, when))
    except (InterlockError, ValueError, TypeError) as err:
        return record.leaf_hash or bytes(32), [f"cannot be read: {getattr(err, 'message', err)}"], False, None
    if record.envelope_text is not None:
        if envelope_json != record.envelope_text:
            problems.append("the stored envelope is not in RFC 8785 canonical form")
        if when != record.integrated_at:
            problems.append(f"the stored integration time {record.integrated_at!r} is not written as {when!r}")
    if record.leaf_hash is not None and record.leaf_hash != leaf:
        problems.append("the stored leaf hash is not the hash of the entry")
    try:
        opened = open_canonical(record.envelope)
        parse_statement(opened.statement)
    except InterlockError as err:
        problems.append(f"bad statement: {err.message}")
        return leaf, problems, False, None
    statement = opened.statement
    if record.columns is not None:
        signed = {"author": statement.get("author"), "key_id": statement.get("key"),
                  "nonce": statement.get("nonce"), "type": statement.get("type")}
        problems.extend(f"the stored {column} {value!r} is not what the statement says"
                        for column, value in record.columns.items() if signed.get(column) != value)
    key = registered_key(agreement, statement)
    if key is None or opened.keyid != statement.get("key"):
        return leaf, problems, True, None
    return leaf, problems, True, signature_valid(opened.payload, opened.sig, key)


def _check_records(records: Sequence[EntryRecord], document: bytes) -> list[Checked]:
    """The per-chunk function, run by `interlock.parallel.ChunkPool` on every core."""
    agreement = _agreement(document)
    return [check_record(r, agreement) for r in records]


def record_checker(workers: int | None = None) -> ChunkPool:
    """The audit's pool: one worker per core (None), in-process with one worker or fewer than
    256 records.  One pool for the whole audit, records pickled to it, one slice per worker per
    batch: the entries arrive batch by batch from the source, so forking per batch to share them
    would cost more than the pipe; the overlap comes from folding one batch while the next is
    checked."""
    return ChunkPool(workers, parallel_from=256)


# --- the tree, packed --------------------------------------------------------------------


class PackedTree:
    """Every complete subtree of a tree, each level one bytearray of 32-byte hashes."""

    def __init__(self, leaves: bytearray) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) >= 64:
            below = self.levels[-1]
            above = bytearray()
            for i in range(0, len(below) - 63, 64):
                above += node_hash(bytes(below[i : i + 32]), bytes(below[i + 32 : i + 64]))
            self.levels.append(above)

    @property
    def size(self) -> int:
        return len(self.levels[0]) // 32

    def subtree(self, level: int, index: int) -> bytes:
        return bytes(self.levels[level][32 * index : 32 * index + 32])

    def count(self, level: int) -> int:
        return len(self.levels[level]) // 32 if level < len(self.levels) else 0

    def root(self, size: int) -> bytes:
        return root_from(self, size)


# --- the audit ---------------------------------------------------------------------------


def audit(
    source: LogSource,
    *,
    log_key: str | None = None,
    witness_keys: Iterable[str] = (),
    min_cosignatures: int = 0,
    saved_checkpoint: str | None = None,
    as_of: datetime | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Verify everything `source` claims (see the module docstring); never raises for a fault
    in the log — faults are `Report.problems`.  Raises `InterlockError` for unusable inputs
    (agreement file, keys)."""
    from interlock.engine import Evaluator

    report = Report(source.description)
    tick = progress or (lambda _phase, _done, _total: None)
    agreement: Agreement = load_agreement(source.agreement())
    claimed = source.claimed_log_key()
    report.log_key, report.log_key_trusted = (log_key, True) if log_key else (claimed, False)
    if log_key and claimed and claimed != log_key:
        report.add(f"the log claims key {claimed}, not the trusted {log_key}")
    witnesses = list(witness_keys)

    # 1–2: entries (checked in worker processes), then authorisation in order
    document = source.agreement()
    evaluator = Evaluator(agreement)
    leaves = bytearray()
    total = source.count()
    last_time: datetime | None = None
    done = 0

    def fold(records: list[EntryRecord], checked: Iterator[list[Checked]]) -> None:
        nonlocal last_time, done, leaves
        verdicts = (one for part in checked for one in part)
        for record, (leaf, problems, readable, verdict) in zip(records, verdicts, strict=True):
            index = done
            done += 1
            leaves += leaf
            if record.index != index:
                report.add(f"is missing or out of order: found entry {record.index} in its place", index)
            for problem in problems:
                report.add(problem, index)
            if not readable:
                continue
            entry = Entry(index, parse_timestamp(record.integrated_at), envelope=record.envelope)
            if last_time is not None and entry.integrated_at < last_time:
                report.add("its integration time is earlier than the previous entry's", index)
            else:
                last_time = entry.integrated_at
            amended = evaluator.agreement is not agreement  # keys may differ: the engine checks
            rejection = evaluator.append(entry, signature_ok=None if amended else verdict)
            if rejection is not None:
                report.add(f"the engine rejects it ({rejection.code}): {rejection.reason}", index)
        tick("entries", done, total)

    check = partial(_check_records, document=document)
    with record_checker(workers) as checker:
        chunk: list[EntryRecord] = []
        in_flight: tuple[list[EntryRecord], Iterator[list[Checked]]] | None = None
        for record in source.entries():
            chunk.append(record)
            if len(chunk) >= _CHUNK:
                started = checker.map(check, chunk)
                if in_flight is not None:
                    fold(*in_flight)
                in_flight, chunk = (chunk, started), []
        started = checker.map(check, chunk)
        if in_flight is not None:
            fold(*in_flight)
        fold(chunk, started)
    report.size = len(leaves) // 32

    # 3: the tree and the stored nodes
    packed = PackedTree(leaves)
    report.root = packed.root(report.size)
    stored_nodes = source.nodes()
    if stored_nodes is not None:
        _compare_nodes(stored_nodes, packed, report)
    tick("tree", report.size, report.size)

    # 4: checkpoints and cosignatures
    _check_checkpoints(source, packed, report, witnesses, min_cosignatures)

    # 5: the saved checkpoint
    if saved_checkpoint is not None:
        _check_saved(saved_checkpoint, packed, report, source.origin())

    # 6: the status (as of `as_of`, or the newest integration time if that is later)
    moment = max(as_of, last_time) if as_of and last_time else as_of or last_time
    if moment is not None:
        report.status = evaluator.status(moment)
    return report


def _compare_nodes(stored: Iterator[tuple[int, int, bytes]], packed: PackedTree, report: Report) -> None:
    """The stored nodes must be exactly the complete subtrees of the rebuilt tree: merged in
    (level, index) order, the first extra, missing or different row is reported."""

    def entry_of(level: int, index: int) -> int | None:
        first = index << level if 0 <= level < 64 and index >= 0 else -1
        return first if 0 <= first < packed.size else None

    expected = ((lv, ix) for lv in range(len(packed.levels)) for ix in range(packed.count(lv)))
    want = next(expected, None)
    for level, index, value in stored:
        if want is None or (level, index) < want:
            report.add(f"the stored tree has a node (level {level}, index {index}) the entries do not make",
                       entry_of(level, index))
            return
        if (level, index) > want:
            report.add(f"the stored tree lacks node (level {want[0]}, index {want[1]})", entry_of(*want))
            return
        if bytes(value) != packed.subtree(level, index):
            report.add(f"the stored tree node (level {level}, index {index}) does not match the entries",
                       entry_of(level, index))
            return
        want = next(expected, None)
    if want is not None:
        report.add(f"the stored tree lacks node (level {want[0]}, index {want[1]})", entry_of(*want))


def _check_checkpoints(source: LogSource, packed: PackedTree, report: Report,
                       witnesses: list[str], min_cosignatures: int) -> None:
    origin = source.origin()
    newest: CheckpointRecord | None = None
    newest_size = -1
    newest_valid: list[str] = []
    problems_before = len(report.problems)
    for count, record in enumerate(source.checkpoints(), start=1):
        report.checkpoints += 1
        label = f"checkpoint {record.size if record.size is not None else count}"
        if report.log_key is None:
            report.add(f"{label}: no log key to check it with (give --log-key)")
            return
        try:
            signed = open_checkpoint(record.note, report.log_key, origin=origin)
        except InterlockError as err:
            report.add(f"{label}: {err.message}")
            continue
        cp = signed.checkpoint
        if record.size is not None and record.size != cp.size:
            report.add(f"{label}: the stored size {record.size} is not the signed size {cp.size}")
        if record.root is not None and record.root != cp.root_hash:
            report.add(f"{label}: the stored root is not the signed root")
        if cp.size > packed.size:
            report.add(f"checkpoint {cp.size}: signed for {cp.size} entries but the log holds {packed.size}")
            continue
        if packed.root(cp.size) != cp.root_hash:
            report.add(f"checkpoint {cp.size}: its root is not the root of the first {cp.size} entries "
                       "(the log shows a different history)")
            continue
        text, signatures = split_note(record.note)
        log_name = report.log_key.split("+", 1)[0]
        lines = (*record.cosignatures, *(s.line for s in signatures if s.name != log_name))
        valid = _check_cosignatures(lines, text, witnesses, report, label)
        if cp.size > newest_size:
            newest, newest_size, newest_valid = record, cp.size, valid
            report.latest = signed
            report.latest_note = record.note + "".join(record.cosignatures)
        elif cp.size == newest_size:
            report.add(f"checkpoint {cp.size} is stored twice")
    if source.one_checkpoint_per_batch and problems_before == len(report.problems):
        if newest is None:
            report.add("the log has no valid checkpoint")
        elif newest_size != packed.size:
            report.add(f"is covered by no signed checkpoint (the newest covers {newest_size} of "
                       f"{packed.size} entries)", newest_size)
    if min_cosignatures and newest is not None and len(newest_valid) < min_cosignatures:
        report.add(f"checkpoint {newest_size} has {len(newest_valid)} valid cosignatures from trusted "
                   f"witnesses, fewer than the {min_cosignatures} required")


def _check_cosignatures(lines: Iterable[str], text: str, witnesses: list[str],
                        report: Report, label: str) -> list[str]:
    """Verify each line by a trusted witness; returns the witnesses with a valid one."""
    valid: list[str] = []
    for line in lines:
        for key in witnesses:
            try:
                cosig = verify_cosignature(text, line, key)
            except InterlockError:
                continue
            if cosig.name not in valid:
                valid.append(cosig.name)
                report.cosignatures += 1
            break
        else:
            name = line[2:].split(" ", 1)[0]
            if any(k.split("+", 1)[0] == name for k in witnesses):
                report.add(f"{label}: the cosignature by {name} does not verify")
    return valid


def _check_saved(saved: str, packed: PackedTree, report: Report, origin: str | None) -> None:
    if report.log_key is None:
        report.add("saved checkpoint: no log key to check it with (give --log-key)")
        return
    try:
        old = open_checkpoint(saved, report.log_key, origin=origin).checkpoint
    except InterlockError as err:
        report.add(f"saved checkpoint: {err.message}")
        return
    new = report.latest.checkpoint if report.latest is not None else None
    if old.size > packed.size:
        report.add(f"saved checkpoint {old.size} is larger than the log ({packed.size} entries): "
                   "the log has lost entries or shows a different history")
        return
    new_size, new_root = (new.size, new.root_hash) if new is not None else (packed.size, packed.root(packed.size))
    if old.size > new_size:
        report.add(f"saved checkpoint {old.size} is newer than the log's newest checkpoint {new_size}")
        return
    if old.size == 0:
        if old.root_hash != EMPTY_ROOT:
            report.add("saved checkpoint 0 does not have the empty tree's root")
        return
    proof = consistency_proof_from(packed, old.size, new_size)
    try:
        verify_consistency(old.size, new_size, old.root_hash, new_root, proof)
    except InterlockError:
        report.add(f"saved checkpoint {old.size} is not consistent with checkpoint {new_size}: "
                   "the log shows a different history than before", old.size - 1)


def read_checkpoint_text(text: str) -> str:
    """A saved checkpoint file's text, checked to be a signed note holding a checkpoint."""
    body, _ = split_note(text)
    parse_checkpoint(body)
    return text
