"""Preparing a submission for the log: everything about it that needs neither the database
nor the other entries — envelope shape, statement shape, canonical bytes, and the Ed25519
check against the key the agreement registers.

Pure: no clock, no database.  `prepare` runs in the caller's thread or, through
`prepare_chunk`, in a worker process (`LogWriter(processes=N)`, `interlock.store.workers`);
the two give the same answer for the same envelope and keyring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from interlock.agreement import Agreement
from interlock.canonical import canonical_json
from interlock.errors import InterlockError
from interlock.statements import Statement, open_envelope, parse_statement
from interlock.statements.dsse import Opened, signature_valid
from interlock.statements.keys import decode_public_key
from interlock.store.records import Refusal

Keyring = Mapping[tuple[str, str], "bytes | None"]
"""(author, key id) → the Ed25519 public key the agreement registers (None: undecodable)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A submission that passed the shape checks; `signature_ok` is None if not checked here."""

    envelope: dict[str, Any]
    envelope_json: str  # RFC 8785 text of `envelope`
    statement: Statement  # the payload, parsed; handed to the engine
    signature_ok: bool | None
    signed_with: bytes | None  # the public key `signature_ok` was computed with

    def verdict_under(self, agreement: Agreement) -> bool | None:
        """The precomputed verdict if `agreement` (the version in force) registers the same
        key for this statement; otherwise None, and the engine verifies it itself."""
        if self.signed_with is None:
            return None
        if keyring(agreement).get((self.statement.author, self.statement.key)) != self.signed_with:
            return None
        return self.signature_ok


Checked = tuple[str, Statement, "bool | None", "bytes | None"]
"""What a worker process sends back for an accepted shape: `Prepared` without the envelope,
which the submitting process already holds."""


def open_canonical(envelope: Any) -> Opened:
    """`open_envelope` (its fast path checks the canonical form with C `json`).  Raises
    `EnvelopeError`."""
    return open_envelope(envelope)


_KEYRINGS: dict[int, tuple[Agreement, dict[tuple[str, str], bytes | None]]] = {}


def keyring(agreement: Agreement) -> dict[tuple[str, str], bytes | None]:
    """Every key the agreement registers, by (party, key id); the first wins on a repeat.
    Cached per agreement object (a version is immutable)."""
    held = _KEYRINGS.get(id(agreement))
    if held is not None and held[0] is agreement:
        return held[1]
    ring: dict[tuple[str, str], bytes | None] = {}
    for party in agreement.parties:
        for key in party.keys:
            try:
                ring.setdefault((party.id, key.id), decode_public_key(key.ed25519))
            except InterlockError:
                ring.setdefault((party.id, key.id), None)
    if len(_KEYRINGS) > 64:
        _KEYRINGS.clear()
    _KEYRINGS[id(agreement)] = (agreement, ring)
    return ring


def registered_key(agreement: Agreement, statement: dict[str, Any]) -> bytes | None:
    """The Ed25519 public key the agreement registers for the statement's author and key."""
    return keyring(agreement).get((str(statement.get("author")), str(statement.get("key"))))


def _plain(value: Any) -> bool:
    """Printable ASCII without '"' or '\\': JSON and RFC 8785 write it verbatim."""
    return isinstance(value, str) and value.isascii() and value.isprintable() and '"' not in value \
        and "\\" not in value


def canonical_envelope(envelope: dict[str, Any]) -> str:
    """RFC 8785 text of an envelope (shape already checked by `open_envelope`).

    Fast path: for the usual envelope — three keys, one signature with keyid and sig, every
    string printable ASCII without quote or backslash — RFC 8785 is the sorted, spaceless
    JSON Python writes; anything else goes through the `rfc8785` library."""
    signatures = envelope.get("signatures")
    if (
        len(envelope) == 3
        and isinstance(signatures, list) and len(signatures) == 1
        and isinstance(signatures[0], dict) and set(signatures[0]) == {"keyid", "sig"}
        and all(_plain(v) for v in (envelope.get("payload"), envelope.get("payloadType"), *signatures[0].values()))
    ):
        sig = signatures[0]
        return (f'{{"payload":"{envelope["payload"]}","payloadType":"{envelope["payloadType"]}",'
                f'"signatures":[{{"keyid":"{sig["keyid"]}","sig":"{sig["sig"]}"}}]}}')
    return canonical_json(envelope).decode("utf-8")


def leaf_bytes(envelope_json: str, integrated_at: str) -> bytes:
    """RFC 8785 of {"integrated_at", "envelope"} from the envelope's canonical text (keys in
    RFC 8785 order: "envelope" < "integrated_at"; the timestamp is plain ASCII)."""
    return f'{{"envelope":{envelope_json},"integrated_at":"{integrated_at}"}}'.encode()


def prepare(envelope: Any, ring: Keyring) -> Prepared | Refusal:
    """Check one submission's shape and, when `ring` holds its author's key, its signature.

    A malformed submission is a `Refusal` (never an exception).  The signature verdict is
    advisory: the log re-checks that the version in force at commit registers the same key."""
    try:
        opened = open_canonical(envelope)
        extra = set(envelope["signatures"][0]) - {"keyid", "sig"}
        if extra:
            return Refusal("bad-envelope", f"unknown signature fields: {', '.join(sorted(extra))}", 400)
        statement = parse_statement(opened.statement)
    except InterlockError as err:
        return Refusal(err.code, err.message, err.http_status)
    key = ring.get((statement.author, statement.key))
    ok = None
    if key is not None and opened.keyid == statement.key:
        ok = signature_valid(opened.payload, opened.sig, key)
    else:
        key = None
    return Prepared(envelope, canonical_envelope(envelope), statement, ok, key)


def prepare_chunk(envelopes: Sequence[Any], ring: Keyring) -> list[Refusal | Checked]:
    """`prepare` each envelope, answering in a form cheap to send between processes."""
    out: list[Refusal | Checked] = []
    for envelope in envelopes:
        done = prepare(envelope, ring)
        if isinstance(done, Refusal):
            out.append(done)
        else:
            out.append((done.envelope_json, done.statement, done.signature_ok, done.signed_with))
    return out

