"""C2SP tlog-checkpoint bodies and tlog-cosignature/v1 witness cosignatures (Ed25519).

A checkpoint is the note text ``<origin>\\n<size>\\n<base64 root>\\n[<extension>\\n...]``
(c2sp.org/tlog-checkpoint), signed by the log as an Ed25519 note (`interlock.note`).
A witness cosignature (c2sp.org/tlog-cosignature, type 0x04) is one more signature line on
that note: key id = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4], and the signature bytes are
a big-endian u64 POSIX timestamp followed by the Ed25519 signature of
``cosignature/v1\\ntime <timestamp>\\n`` + the checkpoint text. A witness's Go-style signer key
(type 0x01) is reused for cosigning, as transparency-dev/formats does; its 0x01 vkey
converts to the 0x04 vkey clients configure. ML-DSA-44 cosignatures (the spec's SHOULD for
new deployments) are not supported: no ML-DSA in our crypto libraries (docs/log-format.md).
Pure: timestamps are arguments.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from interlock.errors import CheckpointError, CosignatureError, NoteError, NoteVerificationError
from interlock.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    COSIGNATURE_HEADER,
    Note,
    Signature,
    Signer,
    Verifier,
    check_text,
    is_valid_name,
    key_id,
    parse_signature_line,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    split_note,
    verify_note,
)

MAX_SIZE = (1 << 63) - 1
MAX_TIMESTAMP = (1 << 63) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and the 32-byte RFC 6962 root, plus optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [("origin", self.origin), *(("extension line", e) for e in self.extensions)]:
            if not line or any(ord(ch) < 0x20 for ch in line):
                raise CheckpointError(f"a checkpoint {what} must be one non-empty line")
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"tree size {self.size} is out of range")
        if len(self.root_hash) != 32:
            raise CheckpointError("a checkpoint root hash is 32 bytes (SHA-256)")

    def text(self) -> str:
        """The note text (body) of this checkpoint, ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions))


def log_origin(host: str, agreement_id: str) -> str:
    """The origin interlock suggests: ``<server host>/<agreement id>`` (no spaces, no '+')."""
    origin = f"{host}/{agreement_id}"
    if not is_valid_name(origin) or not host or not agreement_id:
        raise CheckpointError(f"{origin!r} is not usable as an origin (no spaces or '+')")
    return origin


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint body (the note text, not the signed note); raises `CheckpointError`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("a checkpoint must be UTF-8") from None
    try:
        check_text(text)
    except NoteError as err:
        raise CheckpointError(f"not a checkpoint: {err.message}") from None
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has at least three lines: origin, size, root hash")
    origin, size, root, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise CheckpointError(f"tree size {size[:30]!r} is not a decimal without leading zeros")
    try:
        root_hash = base64.b64decode(root.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise CheckpointError("the root hash line is not standard base64") from None
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, *signer_keys: str | Signer) -> bytes:
    """The checkpoint as a signed note, signed with each of the log's signer keys."""
    return sign_note(checkpoint.text(), *signer_keys)


# --- cosignatures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cosignature:
    """A verified (or merely parsed) cosignature/v1: who, which key, when, the signature."""

    name: str
    key_id: int
    timestamp: int
    signature: bytes

    @property
    def line(self) -> str:
        sig = self.timestamp.to_bytes(8, "big") + self.signature
        return Signature(self.name, self.key_id, sig).line


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: ``cosignature/v1\\ntime <ts>\\n`` + the checkpoint text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is out of range")
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosigner_verifier(key: str | Verifier | Signer) -> Verifier:
    """The type-0x04 verifier of a cosigner, from its 0x04 or 0x01 vkey, or its signer key."""
    if isinstance(key, str):
        key = parse_signer_key(key) if key.startswith("PRIVATE+KEY+") else parse_verifier_key(key)
    public = key.public_key
    if isinstance(key, Verifier) and key.alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise CosignatureError(f"key type {key.alg:#04x} cannot make cosignature/v1")
    return Verifier(key.name, key_id(key.name, ALG_COSIGNATURE_V1, public), ALG_COSIGNATURE_V1, public)


def cosigner_vkey(key: str | Verifier | Signer) -> str:
    """The type-0x04 vkey string clients configure for a witness."""
    return cosigner_verifier(key).vkey


def _checkpoint_text(checkpoint: Checkpoint | str) -> str:
    if isinstance(checkpoint, Checkpoint):
        return checkpoint.text()
    parse_checkpoint(checkpoint)
    return checkpoint


def cosign_checkpoint(checkpoint: Checkpoint | str, signer_key: str | Signer, timestamp: int) -> str:
    """The witness's cosignature line (``— name base64\\n``) on a checkpoint, at ``timestamp``.

    ``checkpoint`` is a `Checkpoint` or its text (not the signed note: use `split_note`).
    The caller has already checked the log's signature and consistency. The timestamp must
    be nonzero (tlog-witness) and at most 2**63 - 1.
    """
    text = _checkpoint_text(checkpoint)
    if timestamp <= 0:
        raise CosignatureError("a cosignature timestamp must be positive")
    signer = signer_key if isinstance(signer_key, Signer) else parse_signer_key(signer_key)
    kid = key_id(signer.name, ALG_COSIGNATURE_V1, signer.public_key)
    sig = signer.sign(cosignature_message(text, timestamp))
    return Cosignature(signer.name, kid, timestamp, sig).line


def parse_cosignature(signature: Signature | str) -> Cosignature:
    """Read name, key id and timestamp from a cosignature line or `Signature` (no verifying)."""
    if isinstance(signature, str):
        try:
            signature = parse_signature_line(signature.removesuffix("\n"))
        except NoteError as err:
            raise CosignatureError(err.message) from None
    if len(signature.sig) != 8 + 64:
        raise CosignatureError("a cosignature/v1 is 4 + 8 + 64 bytes")
    timestamp = int.from_bytes(signature.sig[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError("the cosignature timestamp exceeds 2**63 - 1")
    return Cosignature(signature.name, signature.key_id, timestamp, signature.sig[8:])


def verify_cosignature(
    checkpoint: Checkpoint | str, signature: Signature | str, cosigner_key: str | Verifier
) -> Cosignature:
    """Check one witness cosignature on a checkpoint; returns it (with its timestamp).

    Raises `CosignatureError` if the line is not by this cosigner (name and key id) or does
    not verify.
    """
    text = _checkpoint_text(checkpoint)
    verifier = cosigner_verifier(cosigner_key)
    cosig = parse_cosignature(signature)
    if (cosig.name, cosig.key_id) != (verifier.name, verifier.key_id):
        raise CosignatureError(f"the cosignature is not by {verifier.name}+{verifier.key_id:08x}")
    sig = cosig.timestamp.to_bytes(8, "big") + cosig.signature
    if not verifier.verify(text.encode(), sig):
        raise CosignatureError(f"invalid cosignature by {cosig.name}")
    return cosig


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, with the witnesses' verified cosignatures."""

    checkpoint: Checkpoint
    note: Note
    cosignatures: tuple[Cosignature, ...]

    @property
    def witnesses(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cosignatures)


def open_checkpoint(
    note: bytes | str,
    log_key: str | Verifier,
    witness_keys: Iterable[str | Verifier] = (),
    *,
    origin: str | None = None,
) -> SignedCheckpoint:
    """Verify a signed checkpoint: the log's Ed25519 signature, then each known witness.

    Witness keys may be 0x04 or 0x01 vkeys (converted). Unknown signatures are ignored; a
    known witness's bad cosignature rejects the note. Raises `NoteError`,
    `NoteVerificationError` (no valid log signature, or a bad known signature) or
    `CheckpointError` (body malformed, or not the expected ``origin``).
    """
    log = log_key if isinstance(log_key, Verifier) else parse_verifier_key(log_key)
    if log.alg != ALG_ED25519:
        raise NoteVerificationError("the log key must be an Ed25519 note key (type 0x01)")
    witnesses = [cosigner_verifier(k) for k in witness_keys]
    opened = verify_note(note, [log, *witnesses])
    if not any((s.name, s.key_id) == (log.name, log.key_id) for s in opened.signatures):
        raise NoteVerificationError(f"the checkpoint is not signed by the log key {log.name}")
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    ids = {(w.name, w.key_id) for w in witnesses}
    cosigs = tuple(parse_cosignature(s) for s in opened.signatures if (s.name, s.key_id) in ids)
    return SignedCheckpoint(checkpoint, opened, cosigs)


__all__ = [
    "Checkpoint",
    "Cosignature",
    "SignedCheckpoint",
    "cosign_checkpoint",
    "cosignature_message",
    "cosigner_verifier",
    "cosigner_vkey",
    "log_origin",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_cosignature",
    "sign_checkpoint",
    "split_note",
    "verify_cosignature",
]
