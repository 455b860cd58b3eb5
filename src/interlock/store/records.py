"""What the store hands back: log descriptions, checkpoints, acknowledgements, refusals.

Plain frozen data with `to_json()` in the shapes the HTTP API returns.  Hashes inside
proofs travel as standard base64 (the encoding C2SP checkpoints use for the root and
tlog-witness uses for proof lines), so a client decodes everything the same way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def proof_to_json(proof: list[bytes]) -> list[str]:
    """A proof as JSON: a list of standard-base64 hashes, bottom-up as RFC 9162 orders them."""
    return [b64(h) for h in proof]


@dataclass(frozen=True)
class LogInfo:
    """A registered log: `id` names it in URLs, `origin` is its checkpoints' first line."""

    id: str
    origin: str
    agreement_hash: str
    public_key: str  # the log's note verifier key, name+hexid+base64
    created_at: str
    agreement: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "agreement_hash": self.agreement_hash,
            "log_key": self.public_key,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Cosignature:
    """A witness's cosignature line on one checkpoint, as received (`line` ends in a newline)."""

    key_name: str
    line: str
    received_at: str


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint the log signed: `note` carries the log's signature only."""

    size: int
    root: bytes
    note: str
    created_at: str
    cosignatures: tuple[Cosignature, ...] = ()

    @property
    def signed_note(self) -> str:
        """The note with every cosignature line appended (what clients verify at once)."""
        return self.note + "".join(c.line for c in self.cosignatures)

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": b64(self.root),
            "checkpoint": self.signed_note,
            "cosignatures": [
                {"witness": c.key_name, "line": c.line, "received_at": c.received_at}
                for c in self.cosignatures
            ],
        }


@dataclass(frozen=True)
class Ack:
    """An entry is durable: its index and time, the checkpoint covering it, the proof."""

    index: int
    integrated_at: str
    size: int
    checkpoint: str
    inclusion_proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "integrated_at": self.integrated_at,
            "checkpoint": self.checkpoint,
            "inclusion_proof": proof_to_json(list(self.inclusion_proof)),
        }


@dataclass(frozen=True)
class Refusal:
    """A submission that was not logged (nothing was written), with a stable `code`."""

    code: str
    message: str
    http_status: int = 422

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}
