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


# --- server: admission at the door, the HTTP API, client, witnesses, mirrors --------------
# The server answers every refusal with `{"code", "message"}` and `http_status`; a 5xx is
# never the answer to anything a client sent (docs/server.md lists every code).


class UnsupportedMediaTypeError(InterlockError):
    code = "unsupported-media-type"
    explanation = "Send the request body as Content-Type: application/json."
    http_status = 415


class BodyTooLargeError(InterlockError):
    code = "body-too-large"
    explanation = "The request body is larger than the server accepts."
    http_status = 413


class MalformedJsonError(InterlockError):
    code = "malformed-json"
    explanation = "The request body is not a single well-formed UTF-8 JSON value."
    http_status = 400


class BadParameterError(InterlockError):
    code = "bad-parameter"
    explanation = "A path or query parameter is missing, of the wrong type or out of range."
    http_status = 400


class RateLimitedError(InterlockError):
    """Too many requests; `retry_after` is the number of seconds until one more is allowed."""

    code = "rate-limited"
    explanation = "Too many requests; wait and try again."
    http_status = 429

    def __init__(self, message: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KeyRateLimitedError(RateLimitedError):
    code = "rate-limited-key"
    explanation = "Too many statements signed by this key in a short time; wait and try again."


class AddressRateLimitedError(RateLimitedError):
    code = "rate-limited-address"
    explanation = "Too many requests from this network address in a short time; wait and try again."


class IssuedInFutureError(InterlockError):
    code = "issued-in-future"
    explanation = "The statement's issued_at is later than the server's clock allows; check your clock."
    http_status = 422


class IssuedTooLongAgoError(InterlockError):
    code = "issued-too-long-ago"
    explanation = "The statement's issued_at is older than the server accepts; sign it again now."
    http_status = 422


class UnknownAgreementError(InterlockError):
    code = "unknown-agreement"
    explanation = "This server keeps no log for that agreement id."
    http_status = 404


class UnknownEntryError(InterlockError):
    code = "unknown-entry"
    explanation = "The log has no entry with that index (yet)."
    http_status = 404


class UnknownObligationError(InterlockError):
    code = "unknown-obligation"
    explanation = "The agreement has no obligation with that id."
    http_status = 404


class NotFoundError(InterlockError):
    code = "not-found"
    explanation = "There is nothing at this path; see /docs for the API."
    http_status = 404


class MethodNotAllowedError(InterlockError):
    code = "method-not-allowed"
    explanation = "This path does not accept that HTTP method; see /docs for the API."
    http_status = 405


class OperatorAuthError(InterlockError):
    code = "operator-unauthorized"
    explanation = "Registering an agreement needs a request signed by an operator key the server trusts."
    http_status = 401


class StatementRefusedError(InterlockError):
    """The engine refused the statement; `code` is the engine's rejection code (instance)."""

    code = "statement-refused"
    explanation = "The statement may not enter the log (see the message for the rule it breaks)."
    http_status = 403

    def __init__(self, message: str | None = None, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code  # type: ignore[misc]
        if http_status is not None:
            self.http_status = http_status  # type: ignore[misc]


class ServerUnavailableError(InterlockError):
    """A client could not reach the server, or it answered with something that is not the API."""

    code = "server-unavailable"
    explanation = "The interlock server could not be reached or did not answer as the API says."
    http_status = 502


class ServerRefusedError(InterlockError):
    """The server refused a client's request; `code` is the server's error code (instance)."""

    code = "server-refused"
    explanation = "The server refused the request."

    def __init__(self, message: str | None = None, code: str | None = None, http_status: int = 400) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.http_status = http_status  # type: ignore[misc]


class WitnessError(InterlockError):
    """A C2SP tlog-witness refusal; `http_status` is the status the protocol prescribes."""

    code = "witness-refused"
    explanation = "The witness refused to cosign the checkpoint."
    http_status = 400


class WitnessUnknownLogError(WitnessError):
    code = "witness-unknown-log"
    explanation = "The witness is not configured to witness a log with this origin."
    http_status = 404


class WitnessUntrustedError(WitnessError):
    code = "witness-untrusted-checkpoint"
    explanation = "The checkpoint carries no valid signature by the log's trusted key."
    http_status = 403


class WitnessBadRequestError(WitnessError):
    code = "witness-bad-request"
    explanation = "The add-checkpoint request is malformed (old size, proof lines, blank line, checkpoint)."
    http_status = 400


class WitnessConflictError(WitnessError):
    """`size` is the witness's last cosigned size for the log (body of the 409)."""

    code = "witness-old-size-mismatch"
    explanation = "The old size is not the size of the checkpoint the witness last cosigned."
    http_status = 409

    def __init__(self, message: str | None = None, size: int = 0) -> None:
        super().__init__(message)
        self.size = size


class WitnessInconsistentError(WitnessError):
    code = "witness-inconsistent"
    explanation = "The checkpoint is not consistent with the one the witness last cosigned."
    http_status = 422


class MirrorContradictionError(InterlockError):
    """The server showed two histories; `proof_file` holds the two conflicting checkpoints."""

    code = "split-view"
    explanation = "The server contradicted itself: two checkpoints that cannot both be true."
    http_status = 409

    def __init__(self, message: str | None = None, proof_file: str | None = None) -> None:
        super().__init__(message)
        self.proof_file = proof_file


class MirrorVerificationError(InterlockError):
    code = "mirror-unverified"
    explanation = "Something the server sent does not verify (entry, proof, checkpoint or signature)."
    http_status = 502


class ReadOnlyServerError(InterlockError):
    code = "read-only-mirror"
    explanation = "This server is a mirror: it serves the log but takes no statements; submit to the log's server."
    http_status = 405


# --- log storage (interlock.store) and `interlock verify` ---------------------------------


class DatabaseUrlError(InterlockError):
    code = "bad-database-url"
    explanation = "Give the database as sqlite:///path/to/file.db or postgresql://user@host/dbname."


class DatabaseUnavailableError(InterlockError):
    code = "database-unavailable"
    explanation = "The log's database cannot be reached or opened."
    http_status = 503


class UnknownLogError(InterlockError):
    code = "unknown-log"
    explanation = "The database holds no log with that id; `interlock log list` shows them."
    http_status = 404


class LogExistsError(InterlockError):
    code = "log-exists"
    explanation = "The database already holds a log with that id or origin."
    http_status = 409


class LogKeyMismatchError(InterlockError):
    code = "log-key-mismatch"
    explanation = "The signer key given is not the key this log was registered with."


class LogCorruptError(InterlockError):
    """The stored log contradicts itself (found while loading it); run `interlock verify`."""

    code = "log-corrupt"
    explanation = "The stored log is inconsistent; run `interlock verify` to find the first fault."
    http_status = 500


class LogVerificationError(InterlockError):
    """`interlock verify` found a fault; `index` is the first bad entry (None: not an entry)."""

    code = "log-unverified"
    explanation = "The log does not verify: an entry, the tree, a checkpoint or a signature is wrong."

    def __init__(self, message: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


# --- keys and signing on the command line (`interlock keygen`, `interlock sign`) ----------


class KeyFileExistsError(InterlockError):
    code = "key-file-exists"
    explanation = "A file is already at that path; keygen never overwrites a key. Choose another --out."


class KeyIdMissingError(InterlockError):
    code = "key-id-missing"
    explanation = "The key file names no key id (`# interlock key ID` line); pass --key-id."


class UnknownKeyIdError(InterlockError):
    code = "unknown-key-id"
    explanation = "No participant of the agreement registers a key with that id."


class KeyMismatchError(InterlockError):
    code = "key-mismatch"
    explanation = "The private key does not match the public key the agreement registers under that id."


class AuthorMismatchError(InterlockError):
    code = "author-key-mismatch"
    explanation = "The key is registered to another participant than the --author given."


# --- analysis (sequencing, exposure) ------------------------------------------------------


class ValuesError(InterlockError):
    code = "bad-values-file"
    explanation = "The VALUES file must follow docs/analysis.md (values: 1, parties, reversible, ...)."


class CompareError(InterlockError):
    code = "drafts-not-comparable"
    explanation = "Two drafts can be compared only when they name the same parties."


# --- the dashboard and `interlock demo` ---------------------------------------------------


class ReplayError(InterlockError):
    code = "demo-replay-failed"
    explanation = "The demo scenario could not be replayed into a fresh log through the server's API."


# The dashboard's Analysis page (docs/dashboard.md, "Analysis").


class DraftTooLargeError(InterlockError):
    code = "draft-too-large"
    explanation = "The uploaded draft or VALUES file is larger than the Analysis page accepts."
    http_status = 413


class AnalysisTimeoutError(InterlockError):
    code = "analysis-too-long"
    explanation = "The analysis did not finish in the time the server allows; run `interlock analyze` locally."
    http_status = 422


class AnalysisBusyError(InterlockError):
    code = "analysis-busy"
    explanation = "The server is already running as many analyses as it allows; try again in a moment."
    http_status = 429


class AnalysisFailedError(InterlockError):
    code = "analysis-failed"
    explanation = "The analysis could not be completed for this plan; run `interlock analyze` for details."
    http_status = 422


# --- engine: status and explain -----------------------------------------------------------


class UnknownIdError(InterlockError):
    code = "unknown-id"
    explanation = "The agreement has no obligation or stage with that id."
    http_status = 404
