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
