"""The witness's rule: cosign a checkpoint only if it extends the last one cosigned.

`Witness.add_checkpoint(body)` implements C2SP tlog-witness `add-checkpoint`:

1. parse the body (400 if malformed) and the checkpoint note (400);
2. the origin must be one the witness is configured for (404);
3. the log's trusted key must have signed the note (403);
4. `old` must not exceed the checkpoint's size (400);
5. atomically with the stored state: `old` must equal the size last cosigned for this
   origin, 0 if none (409, telling the stored size); with `old` 0 the proof must be empty and
   a size-0 checkpoint must carry the empty root; with `old` equal to the size the root
   must be the stored one; otherwise the RFC 9162 consistency proof from the stored root
   must verify (422);
6. store the checkpoint, then return the cosignature/v1 line, timestamped now (nonzero).

A log is trusted by its verifier key (`name+hexid+base64`); the key name is the origin it
witnesses unless the configuration names another (`ORIGIN=VKEY`).  The clock is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from interlock.checkpoint import Checkpoint, cosign_checkpoint, cosigner_vkey, parse_checkpoint
from interlock.errors import (
    CheckpointError,
    InterlockError,
    NoteError,
    NoteVerificationError,
    ProofError,
    WitnessBadRequestError,
    WitnessConflictError,
    WitnessInconsistentError,
    WitnessUnknownLogError,
    WitnessUntrustedError,
)
from interlock.note import Signer, Verifier, parse_verifier_key, split_note, verify_note
from interlock.tlog import EMPTY_ROOT, verify_consistency

from .protocol import parse_add_checkpoint
from .state import Witnessed, WitnessState


@dataclass(frozen=True)
class TrustedLog:
    """A log the witness follows: its checkpoint origin and the log's note verifier key."""

    origin: str
    verifier: Verifier


def parse_trusted_log(spec: str) -> TrustedLog:
    """`VKEY` (origin = the key's name) or `ORIGIN=VKEY`; raises `NoteKeyError`."""
    origin, sep, vkey = spec.partition("=") if "=" in spec.split("+", 1)[0] else ("", "", spec)
    verifier = parse_verifier_key(vkey)
    return TrustedLog(origin if sep else verifier.name, verifier)


class Witness:
    """A cosigner with its key, the logs it trusts and its durable state."""

    def __init__(
        self,
        signer: Signer,
        logs: Iterable[TrustedLog],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.logs: dict[str, TrustedLog] = {}
        for log in logs:
            if log.origin in self.logs and self.logs[log.origin] != log:
                raise WitnessBadRequestError(f"two different keys are configured for origin {log.origin}")
            self.logs[log.origin] = log
        self.state = state
        self.clock = clock

    @property
    def vkey(self) -> str:
        """The cosigner verifier key (type 0x04) logs and clients configure for this witness."""
        return cosigner_vkey(self.signer)

    def add_checkpoint(self, body: bytes) -> str:
        """Handle one request body; returns the cosignature line or raises a `WitnessError`."""
        request = parse_add_checkpoint(body)
        try:
            text, _ = split_note(request.checkpoint)
            checkpoint = parse_checkpoint(text)
        except (NoteError, CheckpointError) as err:
            raise WitnessBadRequestError(f"the checkpoint is malformed: {err.message}") from None
        log = self.logs.get(checkpoint.origin)
        if log is None:
            raise WitnessUnknownLogError(f"this witness does not follow a log with origin {checkpoint.origin!r}")
        try:
            verify_note(request.checkpoint, [log.verifier])
        except (NoteError, NoteVerificationError):
            raise WitnessUntrustedError(
                f"the checkpoint is not validly signed by the key of {checkpoint.origin}"
            ) from None
        if request.old_size > checkpoint.size:
            raise WitnessBadRequestError(
                f"old size {request.old_size} is larger than the checkpoint's size {checkpoint.size}"
            )

        def decide(stored: Witnessed | None) -> tuple[Witnessed, str]:
            self._check(stored, request.old_size, request.proof, checkpoint)
            stamp = max(1, int(self.clock()))
            line = cosign_checkpoint(text, self.signer, stamp)
            new = Witnessed(checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.checkpoint, stamp, line)
            return new, line

        return self.state.advance(checkpoint.origin, decide)

    @staticmethod
    def _check(stored: Witnessed | None, old: int, proof: tuple[bytes, ...], new: Checkpoint) -> None:
        known = stored.size if stored is not None else 0
        if old != known:
            raise WitnessConflictError(
                f"this witness last cosigned {new.origin} at size {known}, not {old}", size=known
            )
        if old == 0:
            if proof:
                raise WitnessInconsistentError("a consistency proof from size 0 must be empty")
            if new.size == 0 and new.root_hash != EMPTY_ROOT:
                raise WitnessInconsistentError("an empty tree has the root SHA-256 of nothing")
            return
        assert stored is not None
        try:
            verify_consistency(old, new.size, stored.root, new.root_hash, list(proof))
        except ProofError as err:
            raise WitnessInconsistentError(
                f"the checkpoint of size {new.size} is not consistent with the one cosigned at size {old}: "
                f"{err.message}"
            ) from None


def witness_error_body(err: InterlockError) -> tuple[int, bytes, str]:
    """The (status, body, content type) the protocol prescribes for a refusal."""
    if isinstance(err, WitnessConflictError):
        return 409, f"{err.size}\n".encode(), "text/x.tlog.size"
    status = err.http_status if 400 <= err.http_status < 500 else 400
    return status, f"{err.code}: {err.message}\n".encode(), "text/plain; charset=utf-8"
