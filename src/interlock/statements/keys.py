"""Ed25519 key material: seeds, public keys, and the private key file format.

A private key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey
-algorithm ed25519` writes) or one line of base64 holding the 32-byte seed; an optional
first line `# interlock key ID` names the key.  Public keys travel as base64 of the 32 raw
bytes, as agreement files write them.  Pure: text in, bytes out; `cli` reads and writes files.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import SigningKey

from interlock.errors import KeyFileError


def new_seed() -> bytes:
    """32 random bytes from the operating system (the one impure call here, for keygen)."""
    return os.urandom(32)


def public_key(seed: bytes) -> bytes:
    return bytes(SigningKey(seed).verify_key)


def public_key_b64(seed: bytes) -> str:
    return base64.b64encode(public_key(seed)).decode("ascii")


def decode_public_key(text: str) -> bytes:
    """Base64 of 32 bytes → bytes; raises `KeyFileError`."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{text!r} is not base64") from None
    if len(raw) != 32:
        raise KeyFileError("an Ed25519 public key is 32 bytes")
    return raw


def key_file_text(seed: bytes, key_id: str) -> str:
    """The PEM text `interlock keygen` writes, with the key id as a comment line."""
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return f"# interlock key {key_id}\n" + pem.decode("ascii")


def parse_key_file(text: str) -> tuple[bytes, str | None]:
    """Key file text → (seed, key id or None).  Raises `KeyFileError`."""
    key_id = None
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0].startswith("# interlock key "):
        key_id = lines.pop(0).removeprefix("# interlock key ").strip() or None
    body = "\n".join(lines)
    if "BEGIN PRIVATE KEY" in body:
        try:
            key = serialization.load_pem_private_key(body.encode("ascii"), password=None)
        except (ValueError, TypeError):
            raise KeyFileError("the PEM block is not a readable private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError("the PEM key is not an Ed25519 key")
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return seed, key_id
    try:
        seed = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError("the key file is neither PKCS#8 PEM nor a base64 seed") from None
    if len(seed) != 32:
        raise KeyFileError("a base64 seed must be 32 bytes")
    return seed, key_id
