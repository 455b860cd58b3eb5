"""RFC 9162 §2.1 hashing primitives shared by every transparency-log module.

leaf = SHA-256(0x00 ‖ entry bytes), node = SHA-256(0x01 ‖ left ‖ right), empty tree =
SHA-256(""). Every hash is 32 bytes. Pure; no I/O.
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = hashlib.sha256(b"\x00")
_NODE_PREFIX = hashlib.sha256(b"\x01")


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash of one entry's bytes: SHA-256(0x00 ‖ data)."""
    h = _LEAF_PREFIX.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    h = _NODE_PREFIX.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def split_point(n: int) -> int:
    """k = the largest power of two strictly less than n (n ≥ 2): where MTH splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)
