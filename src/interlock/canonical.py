"""Canonical JSON (RFC 8785, via the `rfc8785` package) and the `sha256:` digests built on it.

Pure.  Every signature and every hash in interlock is over these bytes, so two programs
that parse the same document agree byte for byte.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (dicts, lists, str, int, finite float, bool, None)."""
    return rfc8785.dumps(value)


def sha256_ref(data: bytes) -> str:
    """`sha256:` + lowercase hex of SHA-256(data)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def document_hash(value: Any) -> str:
    """The hash that names a document: `sha256:` + hex SHA-256 of its RFC 8785 form."""
    return sha256_ref(canonical_json(value))
