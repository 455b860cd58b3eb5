"""The log page: the latest checkpoint, who signed it, and its consistency with the last one.

Pure, display only.  A C2SP signed note is `body \\n\\n — name base64sig` lines; the body of a
tlog-checkpoint is `origin \\n size \\n base64(root) \\n [extensions]`.  A signature of 68
bytes (4-byte key hash + Ed25519) is a plain note signature; one of 76 bytes is a C2SP
tlog-cosignature/v1 (key hash, 8-byte big-endian timestamp, Ed25519).  Nothing here verifies
signatures: the reader's browser checks proofs itself, and `interlock verify` checks notes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from interlock.server.dashboard.humanize import when


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_hash: str  # hex of the 4-byte key id
    cosigned_at: str | None  # for cosignatures: when the witness signed
    kind: str  # `log signature` | `cosignature` | `signature`


@dataclass(frozen=True)
class CheckpointView:
    origin: str
    size: int
    root_b64: str
    root_hex: str
    signatures: tuple[SignatureLine, ...]
    note: str

    @property
    def cosigners(self) -> tuple[SignatureLine, ...]:
        return tuple(s for s in self.signatures if s.kind == "cosignature")


def _signature(line: str, origin: str) -> SignatureLine | None:
    if not line.startswith("— "):
        return None
    try:
        name, sig_b64 = line[2:].rsplit(" ", 1)
        sig = base64.b64decode(sig_b64, validate=True)
    except (ValueError, binascii.Error):
        return None
    if len(sig) < 4:
        return None
    key_hash = sig[:4].hex()
    if len(sig) == 4 + 8 + 64:
        seconds = int.from_bytes(sig[4:12], "big")
        try:
            at = when(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            at = str(seconds)
        return SignatureLine(name, key_hash, at, "cosignature")
    return SignatureLine(name, key_hash, None, "log signature" if name == origin else "signature")


def read_checkpoint(note: str) -> CheckpointView | None:
    """A signed checkpoint note → `CheckpointView`; None when it is not one."""
    body, sep, sigs = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not lines[1].isdigit():
        return None
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        return None
    origin = lines[0]
    parsed = [_signature(line, origin) for line in sigs.split("\n") if line]
    signatures = tuple(s for s in parsed if s is not None)
    if signatures and not any(s.kind == "log signature" for s in signatures):
        # the log's key may carry a name other than the origin: its first plain signature
        first = next((i for i, s in enumerate(signatures) if s.kind == "signature"), None)
        if first is not None:
            fixed = SignatureLine(signatures[first].name, signatures[first].key_hash, None, "log signature")
            signatures = (*signatures[:first], fixed, *signatures[first + 1 :])
    return CheckpointView(origin, int(lines[1]), lines[2], root.hex(), signatures, note)
