"""Every error interlock raises, each with a stable code and a one-line explanation.

Errors are for what cannot go on (a file that cannot be read, a proof that does not verify,
a request that must be refused).  Where "no" is a normal answer — a finding of the checker, an
entry the engine rejects — the answer is data, not an exception.

Codes are stable: scripts, the server's 4xx bodies and the CLI's output rely on them.
Add a class per new failure; never reuse a code for a different meaning.
"""

from __future__ import annotations

from typing import ClassVar


class InterlockError(Exception):
    """Base of all interlock errors: `code` is stable, `str(err)` is for a person."""

    code: ClassVar[str] = "error"
    explanation: ClassVar[str] = "interlock could not complete the operation."
    http_status: ClassVar[int] = 400

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.explanation
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# --- time and durations -------------------------------------------------------------------


class DurationError(InterlockError):
    code = "bad-duration"
    explanation = "A duration must look like 90m, 72h, 42d, 1w or ISO 8601 (P1D, PT12H)."


class TimestampError(InterlockError):
    code = "bad-timestamp"
    explanation = "A timestamp must be ISO 8601, e.g. 2026-03-05T10:40:00Z."


class TimezoneError(InterlockError):
    code = "unknown-timezone"
    explanation = "The timezone is not an IANA name such as UTC or Asia/Jerusalem."


# --- agreement files ----------------------------------------------------------------------


class AgreementError(InterlockError):
    """The agreement file cannot be used; `findings` lists every error the checker found."""

    code = "agreement-invalid"
    explanation = "The agreement file has errors; run `interlock check` for the list."

    def __init__(self, message: str | None = None, findings: list[object] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class InputFileError(InterlockError):
    code = "unreadable-input"
    explanation = "The input could not be read as a file of the expected kind."


# --- statements, signatures, keys ---------------------------------------------------------


class StatementError(InterlockError):
    code = "bad-statement"
    explanation = "The statement is not well formed (see DESIGN.md, Statements)."


class EnvelopeError(InterlockError):
    code = "bad-envelope"
    explanation = "The DSSE envelope is malformed (payload, payloadType, signatures)."


class SignatureError(InterlockError):
    code = "bad-signature"
    explanation = "The Ed25519 signature does not verify with the registered key."


class KeyFileError(InterlockError):
    code = "bad-key-file"
    explanation = "The key file is not an Ed25519 private key (PKCS#8 PEM or base64 seed)."


class EntriesFileError(InterlockError):
    code = "bad-entries-file"
    explanation = "The entries file must hold one JSON object a line: index, integrated_at, envelope."


# --- transparency log: Merkle proofs, signed notes, checkpoints, tiles --------------------


class ProofError(InterlockError):
    """An inclusion or consistency proof does not verify (or is malformed)."""

    code = "bad-proof"
    explanation = "The Merkle proof does not verify against the given tree size and root hash."
    http_status = 422


class ProofRequestError(InterlockError):
    """A proof was asked for an index or tree size the tree does not have."""

    code = "bad-proof-request"
    explanation = "No such proof: the leaf index or tree sizes are outside the tree."
    http_status = 400


class NoteError(InterlockError):
    """The text is not a well-formed C2SP signed note (or a note cannot be signed)."""

    code = "bad-note"
    explanation = "The signed note is malformed (text, blank line, then '— name base64' lines)."


class NoteKeyError(InterlockError):
    code = "bad-note-key"
    explanation = "The key is not a note key (name+hexid+base64 or PRIVATE+KEY+name+hexid+base64)."


class NoteVerificationError(InterlockError):
    """No trusted key signed the note, or a trusted key's signature on it is invalid."""

    code = "note-unverified"
    explanation = "The note carries no valid signature by a trusted key."
    http_status = 403


class CheckpointError(InterlockError):
    code = "bad-checkpoint"
    explanation = "The checkpoint is not a C2SP tlog-checkpoint (origin, size, base64 root)."


class CosignatureError(InterlockError):
    code = "bad-cosignature"
    explanation = "The witness cosignature is malformed or does not verify (cosignature/v1)."
    http_status = 403


class TileError(InterlockError):
    code = "bad-tile"
    explanation = "Not a C2SP tlog-tiles tile or entry bundle (path, width or contents)."
    http_status = 404
