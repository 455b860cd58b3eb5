"""DSSE envelopes (PAE `DSSEv1`) over RFC 8785 statement bytes, signed with Ed25519.

Envelope: `{"payload": base64(canonical statement), "payloadType": PAYLOAD_TYPE,
"signatures": [{"keyid": KEY_ID, "sig": base64(Ed25519(PAE(payloadType, payload)))}]}`.
Verification uses libsodium through PyNaCl (measured faster than `cryptography`, see
docs/performance.md).  Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from interlock.canonical import canonical_json
from interlock.errors import EnvelopeError, SignatureError

PAYLOAD_TYPE = "application/vnd.interlock.statement+json"
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_PAYLOAD = 1024 * 1024


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: `DSSEv1 LEN(type) type LEN(body) body`."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Opened:
    """An envelope taken apart: the payload bytes, its JSON, the one signature."""

    payload: bytes
    statement: dict[str, Any]
    keyid: str
    sig: bytes


_ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")  # lead byte of a UTF-8 character beyond the BMP


def _float_seen(text: str) -> float:
    raise ValueError(text)


def _short_int(text: str) -> int:
    """An integer of at most 15 digits (RFC 8785 and C `json` write those alike); longer
    ones are left to the exact path."""
    if len(text) - text.startswith("-") > 15:
        raise ValueError(text)
    return int(text)


_DECODER = json.JSONDecoder(parse_float=_float_seen, parse_constant=_float_seen, parse_int=_short_int)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def open_fast(envelope: Any) -> Opened | None:
    """The envelope opened when it is certainly well formed and canonical, else None.

    Never accepts what the exact path of `open_envelope` refuses: the payload must equal the
    C `json.dumps` rendering (sorted keys, no spaces), which is its RFC 8785 form whenever it
    holds no floats, no number of 16 or more digits and no character beyond the BMP.
    Anything else (None) is for `open_exact`, which re-serialises in pure Python.
    """
    try:
        if envelope.keys() != _ENVELOPE_FIELDS or envelope["payloadType"] != PAYLOAD_TYPE:
            return None
        (signature,) = envelope["signatures"]
        keyid, sig_text, payload_text = signature["keyid"], signature["sig"], envelope["payload"]
        if not (isinstance(keyid, str) and isinstance(sig_text, str) and isinstance(payload_text, str)):
            return None
        if len(payload_text) > MAX_PAYLOAD * 4 // 3 + 4 or not _KEY_ID.match(keyid):
            return None
        payload = base64.b64decode(payload_text, validate=True)
        sig = base64.b64decode(sig_text, validate=True)
        if len(sig) != 64:
            return None
        if not payload.isascii() and _BEYOND_BMP.search(payload):
            return None
        statement = _DECODER.decode(payload.decode("utf-8"))
        if not isinstance(statement, dict):
            return None
        rendered = _ENCODER.encode(statement)
        return Opened(payload, statement, keyid, sig) if rendered.encode("utf-8") == payload else None
    except (AttributeError, KeyError, TypeError, ValueError, UnicodeError, binascii.Error, RecursionError):
        return None


def open_envelope(envelope: Any) -> Opened:
    """Check an envelope's shape and decode it; raises `EnvelopeError`.  Does not verify.

    Tries `open_fast` first (C `json`), then the exact check (`rfc8785`, pure Python)."""
    fast = open_fast(envelope)
    return fast if fast is not None else open_exact(envelope)


def open_exact(envelope: Any) -> Opened:
    """`open_envelope` without the fast path: the canonical form checked with `rfc8785`."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the envelope must be a JSON object")
    unknown = set(envelope) - {"payload", "payloadType", "signatures"}
    if unknown:
        raise EnvelopeError(f"unknown envelope fields: {', '.join(sorted(unknown))}")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise EnvelopeError(f"payloadType must be {PAYLOAD_TYPE!r}")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(signatures[0], dict):
        raise EnvelopeError("an interlock envelope carries exactly one signature")
    keyid, sig_text = signatures[0].get("keyid"), signatures[0].get("sig")
    if not isinstance(keyid, str) or not isinstance(sig_text, str):
        raise EnvelopeError("the signature needs a string `keyid` and a base64 `sig`")
    if not _KEY_ID.match(keyid):
        raise EnvelopeError("`keyid` must be a key id as the agreement writes it (letters, digits, . _ -)")
    payload_text = envelope.get("payload")
    if not isinstance(payload_text, str) or len(payload_text) > MAX_PAYLOAD * 4 // 3 + 4:
        raise EnvelopeError("the payload must be base64 text of at most 1 MiB")
    try:
        payload = base64.b64decode(payload_text, validate=True)
        sig = base64.b64decode(sig_text, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("payload and sig must be standard base64") from None
    if len(sig) != 64:
        raise EnvelopeError("an Ed25519 signature is 64 bytes")
    try:
        statement = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("the payload is not UTF-8 JSON") from None
    except RecursionError:
        raise EnvelopeError("the payload nests too deeply") from None
    if not isinstance(statement, dict):
        raise EnvelopeError("the payload must be a JSON object")
    try:
        if rfc8785.dumps(statement) != payload:
            raise EnvelopeError("the payload is not in RFC 8785 canonical form")
    except (rfc8785.CanonicalizationError, ValueError, TypeError, RecursionError):
        raise EnvelopeError("the payload holds values JSON canonicalisation refuses") from None
    return Opened(payload, statement, keyid, sig)


def verify_signature(opened: Opened, public_key: bytes) -> None:
    """Raise `SignatureError` unless `opened.sig` is valid for `public_key`."""
    try:
        VerifyKey(public_key).verify(pae(PAYLOAD_TYPE, opened.payload), opened.sig)
    except (BadSignatureError, ValueError, TypeError):
        raise SignatureError(f"the signature by key {opened.keyid!r} does not verify") from None


def signature_valid(payload: bytes, sig: bytes, public_key: bytes) -> bool:
    """True when `sig` signs PAE(payload) under `public_key` (for batch verification)."""
    try:
        VerifyKey(public_key).verify(pae(PAYLOAD_TYPE, payload), sig)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def sign_statement(statement: dict[str, Any], key_id: str, seed: bytes) -> dict[str, Any]:
    """Canonicalise `statement`, sign it with the Ed25519 `seed`, return the envelope."""
    payload = canonical_json(statement)
    sig = SigningKey(seed).sign(pae(PAYLOAD_TYPE, payload)).signature
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": key_id, "sig": base64.b64encode(sig).decode("ascii")}],
    }
