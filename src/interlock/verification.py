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
measured about twice as fast as `cryptography` (docs/performance.md).  The workers are
`interlock.parallel`'s: forked where the platform allows (they read the envelopes without
copying them through a pipe), started the platform's default way elsewhere.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from interlock.agreement.model import Agreement
from interlock.engine import Evaluator, Status
from interlock.errors import EnvelopeError
from interlock.parallel import map_chunks
from interlock.statements.dsse import open_envelope, open_fast, signature_valid
from interlock.statements.entries import Entry

CHUNK = 2000
PARALLEL_FROM = 4000  # below this, one process is faster than starting workers
UNKNOWN = 2


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


def _check_envelopes(envelopes: Sequence[dict[str, Any] | None], keys: dict[str, bytes]) -> bytes:
    """The per-chunk function: one `check_envelope` byte per envelope."""
    return bytes(check_envelope(envelope, keys) for envelope in envelopes)


def _flags(raw: bytes) -> list[bool | None]:
    return [None if b == UNKNOWN else b == 1 for b in raw]


def _results(
    agreement: Agreement, entries: Sequence[Entry], processes: int | None, parallel_from: int = PARALLEL_FROM
) -> Iterator[bytes]:
    """Flags chunk by chunk, in order, computed on `processes` workers (default: all cores).
    Four chunks per worker (at most CHUNK entries each) so `evaluate_log` folds early; the
    workers inherit the envelopes where the platform forks (`interlock.parallel.map_chunks`)."""
    envelopes = [entry.envelope for entry in entries]
    return map_chunks(partial(_check_envelopes, keys=keyring(agreement)), envelopes, workers=processes or None,
                      parallel_from=parallel_from, per_worker=4, max_chunk=CHUNK, inherit=True)


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
