"""RFC 9162 §2.1 Merkle tree: root, inclusion and consistency proofs, and their verification.

The public API outside verifiers rely on (DESIGN.md, "The log"). Trees are given as the list
of entry bytes (``leaves``); hashes and proofs are ``bytes`` / ``list[bytes]`` of 32-byte
SHA-256 values, proofs ordered bottom-up as RFC 9162 prints them. Generation follows the
RFC's recursive definitions (MTH, PATH, SUBPROOF) literally; verification follows the RFC's
iterative algorithms (§2.1.3.2, §2.1.4.2) and raises `ProofError` on any failure, with the
stricter edge rules of transparency-dev/merkle (no consistency proof from size 0, every hash
32 bytes). Asking for a proof the tree cannot have raises `ProofRequestError`.

The storage-friendly variants (`root_from`, `inclusion_proof_from`, `consistency_proof_from`,
`new_complete_subtrees`, `CompactRange`, `MemoryTree`) live in `interlock.tlog_subtrees` and
are re-exported here. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from interlock.errors import ProofError, ProofRequestError
from interlock.tlog_hash import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, split_point
from interlock.tlog_subtrees import (
    CompactRange,
    MemoryTree,
    SubtreeReader,
    consistency_proof_from,
    inclusion_proof_from,
    new_complete_subtrees,
    root_from,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "ProofError",
    "ProofRequestError",
    "SubtreeReader",
    "consistency_proof",
    "consistency_proof_from",
    "inclusion_proof",
    "inclusion_proof_from",
    "leaf_hash",
    "new_complete_subtrees",
    "node_hash",
    "root_from",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]


# --- generation from the list of entries (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) ------------


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over precomputed leaf hashes (hi > lo)."""
    n = hi - lo
    if n == 1:
        return hashes[lo]
    k = split_point(n)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def _path(hashes: Sequence[bytes], m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]), bottom-up; m is relative to lo."""
    n = hi - lo
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(hashes, m, lo, lo + k), _mth(hashes, lo + k, hi)]
    return [*_path(hashes, m - k, lo + k, hi), _mth(hashes, lo, lo + k)]


def _subproof(hashes: Sequence[bytes], m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b); m is relative to lo, 0 < m ≤ hi - lo."""
    n = hi - lo
    if m == n:
        return [] if whole else [_mth(hashes, lo, hi)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(hashes, m, lo, lo + k, whole), _mth(hashes, lo + k, hi)]
    return [*_subproof(hashes, m - k, lo + k, hi, False), _mth(hashes, lo, lo + k)]


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(leaves): the root of the tree over these entries; SHA-256("") when empty."""
    if not leaves:
        return EMPTY_ROOT
    hashes = [leaf_hash(d) for d in leaves]
    return _mth(hashes, 0, len(hashes))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of all ``leaves`` (RFC 9162 PATH).

    Raises `ProofRequestError` unless 0 ≤ index < len(leaves).
    """
    if not 0 <= index < len(leaves):
        raise ProofRequestError(f"leaf index {index} is not in a tree of size {len(leaves)}")
    hashes = [leaf_hash(d) for d in leaves]
    return _path(hashes, index, 0, len(hashes))


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the first ``old_size`` leaves are a prefix of ``leaves`` (RFC 9162 PROOF).

    Empty when old_size is 0 or len(leaves) (nothing to prove; C2SP tlog-witness sends an
    empty proof from size 0). Raises `ProofRequestError` unless 0 ≤ old_size ≤ len(leaves).
    """
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ProofRequestError(f"old size {old_size} is not between 0 and the tree size {n}")
    if old_size in (0, n):
        return []
    hashes = [leaf_hash(d) for d in leaves]
    return _subproof(hashes, old_size, 0, n, True)


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) -------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns None on success; raises `ProofError` when the index is
    outside the tree, any hash is not 32 bytes, the proof has the wrong length, or the
    computed root differs.
    """
    _check_hash(leaf_hash, "the leaf hash")
    _check_hash(root, "the root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _climb_right_edge(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError(f"leaf {index} is not in the tree of size {size} with this root")


def _climb_right_edge(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162 §2.1.3.2 step 5.2 / §2.1.4.2 step 6.2: right-shift both until LSB(fn) is set or fn is 0."""
    while True:
        fn >>= 1
        sn >>= 1
        if fn & 1 or fn == 0:
            return fn, sn


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 §2.1.4.2, plus the transparency-dev/merkle edge rules: old_size 0 is an error
    (a proof from the empty tree is meaningless — callers such as a witness handle it
    themselves); equal sizes need an empty proof and equal roots. Raises `ProofError`.
    """
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"tree size {new_size} cannot extend tree size {old_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _climb_right_edge(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root of size {new_size}")
