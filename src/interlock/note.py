"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, compatible with golang.org/x/mod/sumdb/note.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(4-byte big-endian key id ‖ signature)>``. Keys travel as Go's strings:

- verifier key ``<name>+<hex key id>+<base64(type ‖ public key)>`` (vkey),
- signer key ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte seed)>`` (skey),

with key id = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]. Type 0x01 is a plain Ed25519
note signature over the text; type 0x04 is a C2SP tlog-cosignature/v1 (timestamped Ed25519,
see `interlock.checkpoint`), verified here too so that one call checks a log's checkpoint and
its witnesses' cosignatures.

`verify_note` follows the spec and Go's ``note.Open``: signatures whose (name, key id) pair
is unknown are ignored (kept in `Note.unverified`); a known key's bad signature rejects the
note; a note with no valid known signature is rejected. Unlike Go, every signature by a known
key is verified (Go skips repeats of the same key), and conflicting keys with the same
(name, key id) are refused when the verifier list is built. Pure: seeds and timestamps are
arguments; the one exception is `new_signer_key` drawing a random seed when none is given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from interlock.errors import NoteError, NoteKeyError, NoteVerificationError

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # Go's limit; the spec asks for at least 16
EM_DASH_PREFIX = "— "
COSIGNATURE_HEADER = "cosignature/v1\n"

_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


# --- names, key ids, base64 ----------------------------------------------------------------


def is_valid_name(name: str) -> bool:
    """A key name: non-empty, no Unicode spaces, no '+' (and, for notes, no control chars)."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)
    )


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verifier:
    """A public note key: checks signatures of type `alg` (0x01 note, 0x04 cosignature/v1)."""

    name: str
    key_id: int
    alg: int
    public_key: bytes

    @property
    def vkey(self) -> str:
        """The Go-compatible verifier key string."""
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([self.alg]) + self.public_key)}"

    def verify(self, text: bytes, sig: bytes) -> bool:
        """Whether ``sig`` (the bytes after the key id) is this key's signature on ``text``."""
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 8 + 64:
                return False
            timestamp = int.from_bytes(sig[:8], "big")
            if timestamp >= 1 << 63:
                return False
            message = f"{COSIGNATURE_HEADER}time {timestamp}\n".encode() + text
            return _ed25519_ok(self.public_key, message, sig[8:])
        return len(sig) == 64 and _ed25519_ok(self.public_key, text, sig)


def _ed25519_ok(public_key: bytes, message: bytes, sig: bytes) -> bool:
    try:
        VerifyKey(public_key).verify(message, sig)
    except (BadSignatureError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """A private note key (Ed25519 seed). `key_id` is for plain notes (type 0x01)."""

    name: str
    key_id: int
    seed: bytes = field(repr=False)

    @property
    def public_key(self) -> bytes:
        return bytes(SigningKey(self.seed).verify_key)

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64(bytes([ALG_ED25519]) + self.seed)}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, ALG_ED25519, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature (RFC 8032, deterministic) of ``message``."""
        return SigningKey(self.seed).sign(message).signature


def signer_from_seed(name: str, seed: bytes) -> Signer:
    if not is_valid_name(name):
        raise NoteKeyError(f"{name!r} is not a valid key name (non-empty, no spaces or '+')")
    if len(seed) != 32:
        raise NoteKeyError("an Ed25519 seed is 32 bytes")
    public = bytes(SigningKey(seed).verify_key)
    return Signer(name, key_id(name, ALG_ED25519, public), seed)


def new_signer_key(name: str, seed: bytes | None = None) -> tuple[str, str]:
    """(signer key, verifier key) strings for ``name``, as Go's ``note.GenerateKey`` writes.

    ``seed`` (32 bytes) makes the result deterministic; without it a random seed is drawn.
    """
    signer = signer_from_seed(name, os.urandom(32) if seed is None else seed)
    return signer.skey, signer.verifier.vkey


def verifier_key(name: str, public_key: bytes, alg: int = ALG_ED25519) -> str:
    """The vkey string for a raw 32-byte Ed25519 public key of type ``alg``."""
    if not is_valid_name(name):
        raise NoteKeyError(f"{name!r} is not a valid key name (non-empty, no spaces or '+')")
    if len(public_key) != 32:
        raise NoteKeyError("an Ed25519 public key is 32 bytes")
    return Verifier(name, key_id(name, alg, public_key), alg, public_key).vkey


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+name+hexid+base64(0x01 ‖ seed)``; raises `NoteKeyError`."""
    parts = skey.split("+", 4)
    bad = NoteKeyError("not a signer key (PRIVATE+KEY+name+hexid+base64)")
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise bad
    _, _, name, hex_id, b64 = parts
    raw = _b64decode(b64)
    if not _HEX8.fullmatch(hex_id) or not raw or not is_valid_name(name):
        raise bad
    if raw[0] != ALG_ED25519:
        raise NoteKeyError(f"unknown signer key algorithm {raw[0]:#04x}")
    if len(raw) != 33:
        raise NoteKeyError("an Ed25519 signer key holds a 32-byte seed")
    signer = signer_from_seed(name, raw[1:])
    if signer.key_id != int(hex_id, 16):
        raise NoteKeyError(f"the key id {hex_id} does not match the key for {name}")
    return signer


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``name+hexid+base64(type ‖ public key)`` (type 0x01 or 0x04); raises `NoteKeyError`."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteKeyError("not a verifier key (name+hexid+base64)")
    name, hex_id, b64 = parts
    raw = _b64decode(b64)
    if not _HEX8.fullmatch(hex_id) or not raw or not is_valid_name(name):
        raise NoteKeyError("not a verifier key (name+hexid+base64)")
    kid = int(hex_id, 16)
    if kid != int.from_bytes(hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4], "big"):
        raise NoteKeyError(f"the key id {hex_id} does not match the key for {name}")
    alg, public = raw[0], raw[1:]
    if alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteKeyError(f"unsupported verifier key algorithm {alg:#04x}")
    if len(public) != 32:
        raise NoteKeyError("an Ed25519 verifier key holds a 32-byte public key")
    return Verifier(name, kid, alg, public)


def _as_signer(key: str | Signer) -> Signer:
    return key if isinstance(key, Signer) else parse_signer_key(key)


def _as_verifier(key: str | Verifier) -> Verifier:
    return key if isinstance(key, Verifier) else parse_verifier_key(key)


# --- notes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key id and the signature bytes after the key id."""

    name: str
    key_id: int
    sig: bytes

    @property
    def line(self) -> str:
        """``— name base64(key id ‖ sig)`` followed by a newline."""
        return f"{EM_DASH_PREFIX}{self.name} {_b64(self.key_id.to_bytes(4, 'big') + self.sig)}\n"


@dataclass(frozen=True)
class Note:
    """A note whose `signatures` verified with trusted keys; `unverified` are from unknown keys."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()

    @property
    def verified_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.signatures)


def check_text(text: str) -> None:
    """Note text: ends in a newline, no control characters other than newline."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("note text must not contain control characters other than newline")


def parse_signature_line(line: str) -> Signature:
    """Parse one ``— name base64`` line (without its newline); raises `NoteError`."""
    if not line.startswith(EM_DASH_PREFIX):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, b64 = line[len(EM_DASH_PREFIX) :].partition(" ")
    raw = _b64decode(b64) if b64 else None
    if raw is None or len(raw) < 5 or not is_valid_name(name):
        raise NoteError(f"malformed signature line {line[:80]!r}")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def split_note(note: bytes | str) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and its signature lines, verifying nothing.

    Raises `NoteError` unless the note is valid UTF-8 without control characters (other than
    newline), has a blank line before a signature block that ends in a newline, and carries
    1..100 well-formed signature lines. The text is everything up to the last blank line.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a signed note must be valid UTF-8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("a signed note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("the signature block of a note must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


class VerifierList:
    """Trusted keys by (name, key id); different keys with the same pair are refused."""

    def __init__(self, keys: Iterable[str | Verifier]) -> None:
        self._by_id: dict[tuple[str, int], Verifier] = {}
        for key in keys:
            v = _as_verifier(key)
            known = self._by_id.setdefault((v.name, v.key_id), v)
            if known != v:
                raise NoteKeyError(f"ambiguous key {v.name}+{v.key_id:08x}: two keys share it")

    def get(self, name: str, kid: int) -> Verifier | None:
        return self._by_id.get((name, kid))


def verify_note(note: bytes | str, verifier_keys: Iterable[str | Verifier] | VerifierList) -> Note:
    """Open a signed note with the trusted ``verifier_keys`` (vkey strings or `Verifier`s).

    Raises `NoteError` if malformed, `NoteVerificationError` if a trusted key's signature is
    invalid or no trusted key signed it. Repeated identical lines are reported once.
    """
    keys = verifier_keys if isinstance(verifier_keys, VerifierList) else VerifierList(verifier_keys)
    text, sigs = split_note(note)
    text_bytes = text.encode()
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for sig in sigs:
        verifier = keys.get(sig.name, sig.key_id)
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if not verifier.verify(text_bytes, sig.sig):
            raise NoteVerificationError(
                f"invalid signature for key {sig.name}+{sig.key_id:08x}"
            )
        if not any(v.name == sig.name and v.key_id == sig.key_id for v in verified):
            verified.append(sig)
    if not verified:
        raise NoteVerificationError("the note has no valid signature by a trusted key")
    return Note(text, tuple(verified), tuple(unverified))


def sign_note(text: str, *signer_keys: str | Signer) -> bytes:
    """The signed note: ``text``, a blank line, one Ed25519 line per signer key (in order)."""
    check_text(text)
    if not signer_keys:
        raise NoteError("sign_note needs at least one signer key")
    message = text.encode()
    lines = []
    for key in signer_keys:
        signer = _as_signer(key)
        lines.append(Signature(signer.name, signer.key_id, signer.sign(message)).line)
    return (text + "\n" + "".join(lines)).encode()


def add_signature_lines(note: bytes, lines: Iterable[str]) -> bytes:
    """Append signature lines (e.g. witness cosignatures) to a signed note.

    Raises `NoteError` if the result is not a well-formed note with the same text.
    """
    text, _ = split_note(note)
    result = note + "".join(lines).encode()
    if split_note(result)[0] != text:
        raise NoteError("the added lines are not signature lines")
    return result
