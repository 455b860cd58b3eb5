"""Signature verification of a whole log on every core (the shell's job, not the engine's).

`verify_signatures(agreement, entries)` returns one flag per entry for
`evaluate(..., signatures=flags)`: True when the envelope opens (shape, RFC 8785 canonical
payload) and its Ed25519 signature verifies under the key the agreement registers for its
keyid; False when either fails; None for unsigned simulation entries and keys the adopted
agreement does not know (added by an amendment) — the engine checks those itself.  A key id
never changes its key across amendments (the engine refuses such an amendment), so a flag
computed with the adopted agreement's key stays true of every later version.

`evaluate_log(agreement, entries, as_of)` overlaps the two: workers verify chunk after chunk
while this process folds the chunks already verified.

Verification uses libsodium through PyNaCl (`interlock.statements.dsse.signature_valid`),
measured about twice as fast as `cryptography` (docs/performance.md).  Worker processes are
forked where the platform allows (they read the entries without copying them through a pipe)
and spawned elsewhere.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from interlock.agreement.model import Agreement
from interlock.engine import Evaluator, Status
from interlock.errors import EnvelopeError
from interlock.statements.dsse import open_envelope, open_fast, signature_valid
from interlock.statements.entries import Entry

CHUNK = 2000
PARALLEL_FROM = 4000  # below this, one process is faster than starting workers
UNKNOWN = 2

_ENTRIES: Sequence[Entry] = ()
_KEYS: dict[str, bytes] = {}


def keyring(agreement: Agreement) -> dict[str, bytes]:
    """keyid → raw Ed25519 public key, as the agreement registers them."""
    return {key.id: base64.b64decode(key.ed25519) for party in agreement.parties for key in party.keys}


def fast_open(envelope: Any) -> tuple[bytes, str, bytes] | None:
    """(payload, keyid, sig) when `interlock.statements.dsse.open_fast` can vouch for the
    envelope (well formed and canonical, checked with C `json`), else None."""
    opened = open_fast(envelope)
    return None if opened is None else (opened.payload, opened.keyid, opened.sig)


def check_envelope(envelope: dict[str, Any] | None, keys: dict[str, bytes]) -> int:
    """1 valid, 0 invalid, 2 (UNKNOWN) not checkable here (unsigned or unknown key)."""
    if envelope is None:
        return UNKNOWN
    try:
        opened = open_envelope(envelope)
    except EnvelopeError:
        return 0
    payload, keyid, sig = opened.payload, opened.keyid, opened.sig
    public = keys.get(keyid)
    if public is None:
        return UNKNOWN
    return 1 if signature_valid(payload, sig, public) else 0


def _check_range(bounds: tuple[int, int]) -> bytes:
    start, end = bounds
    return bytes(check_envelope(entry.envelope, _KEYS) for entry in _ENTRIES[start:end])


def _check_list(job: tuple[list[dict[str, Any] | None], dict[str, bytes]]) -> bytes:
    envelopes, keys = job
    return bytes(check_envelope(envelope, keys) for envelope in envelopes)


def _flags(raw: bytes) -> list[bool | None]:
    return [None if b == UNKNOWN else b == 1 for b in raw]


def _chunks(count: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _results(
    agreement: Agreement, entries: Sequence[Entry], processes: int | None, parallel_from: int = PARALLEL_FROM
) -> Iterator[bytes]:
    """Flags chunk by chunk, in order, computed on `processes` workers (default: all cores)."""
    global _ENTRIES, _KEYS
    keys = keyring(agreement)
    workers = processes or os.cpu_count() or 1
    if workers <= 1 or len(entries) < parallel_from:
        for start, end in _chunks(len(entries), CHUNK):
            yield bytes(check_envelope(e.envelope, keys) for e in entries[start:end])
        return
    bounds = _chunks(len(entries), max(1, min(CHUNK, len(entries) // (workers * 4))))
    if "fork" in multiprocessing.get_all_start_methods():
        _ENTRIES, _KEYS = entries, keys
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield from pool.imap(_check_range, bounds)
        finally:
            _ENTRIES, _KEYS = (), {}
        return
    jobs = ([e.envelope for e in entries[start:end]] for start, end in bounds)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(_check_list, ((job, keys) for job in jobs))


def verify_signatures(
    agreement: Agreement, entries: Sequence[Entry], *, processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> list[bool | None]:
    """One flag per entry (see the module docstring), verified on all cores for long logs."""
    flags: list[bool | None] = []
    for raw in _results(agreement, entries, processes, parallel_from):
        flags.extend(_flags(raw))
    return flags


def evaluate_log(
    agreement: Agreement,
    entries: Sequence[Entry],
    as_of: datetime,
    *,
    unsigned: bool = False,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> Status:
    """`evaluate(agreement, entries, as_of)` with signatures verified in parallel, overlapped."""
    considered = [e for e in entries if e.integrated_at <= as_of]
    evaluator = Evaluator(agreement, unsigned=unsigned)
    position = 0
    for raw in _results(agreement, considered, processes, parallel_from):
        for flag in _flags(raw):
            evaluator.append(considered[position], signature_ok=flag)
            position += 1
    return evaluator.status(as_of)
