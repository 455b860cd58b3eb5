"""RFC 9162 tree math over stored complete subtrees: O(log n) hashes per root or proof.

A store keeps the hash of every *complete* subtree (2**level leaves starting at leaf
index * 2**level) — rows ``(level, index, hash)`` that never change once written — and
answers `SubtreeReader.subtree`. From those rows `root_from`, `inclusion_proof_from` and
`consistency_proof_from` produce byte-for-byte the results of `interlock.tlog`'s list
functions while reading O(log n) rows. `new_complete_subtrees` lists the rows an append
makes available; `CompactRange` keeps the O(log n) right-border hashes in memory so a
sequencer can append without reading; `MemoryTree` is an in-memory `SubtreeReader`.

Invariant the functions rely on: every node of the RFC tree of size n covers leaves
[begin, end) with begin a multiple of the smallest power of two ≥ end - begin, so it is
the fold of the complete subtrees of the binary decomposition of end - begin. Which subtrees
a function reads depends only on the sizes and indices, never on hash values, so a store may
record the reads on a dry run, fetch them in one query and run again. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from interlock.errors import ProofRequestError
from interlock.tlog_hash import EMPTY_ROOT, HASH_SIZE, node_hash, split_point

Subtree = tuple[int, int, bytes]
"""(level, index, hash) of the complete subtree of leaves [index·2**level, (index+1)·2**level)."""


class SubtreeReader(Protocol):
    """Gives the hash of a complete subtree; level 0 is the leaf hash of leaf ``index``."""

    def subtree(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index·2**level.

        Only asked for subtrees that lie wholly inside the tree size given to the caller.
        """
        ...


def range_hash(reader: SubtreeReader, begin: int, end: int) -> bytes:
    """MTH(D[begin:end]) for an RFC-tree node range (begin aligned as the module says)."""
    parts: list[bytes] = []
    pos, remaining = begin, end - begin
    while remaining:
        level = remaining.bit_length() - 1
        width = 1 << level
        if pos & (width - 1):
            raise ProofRequestError(f"leaves [{begin}, {end}) are not a node of any tree")
        parts.append(reader.subtree(level, pos >> level))
        pos += width
        remaining -= width
    if not parts:
        return EMPTY_ROOT
    h = parts[-1]
    for p in reversed(parts[:-1]):
        h = node_hash(p, h)
    return h


def root_from(reader: SubtreeReader, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves (≤ log2 size + 1 reads)."""
    if size < 0:
        raise ProofRequestError(f"tree size {size} is negative")
    return range_hash(reader, 0, size)


def inclusion_proof_from(reader: SubtreeReader, index: int, size: int) -> list[bytes]:
    """Same as `interlock.tlog.inclusion_proof` for the first ``size`` leaves of the store."""
    if not 0 <= index < size:
        raise ProofRequestError(f"leaf index {index} is not in a tree of size {size}")
    begin, end = 0, size
    path: list[bytes] = []
    while end - begin > 1:
        k = split_point(end - begin)
        mid = begin + k
        if index < mid:
            path.append(range_hash(reader, mid, end))
            end = mid
        else:
            level = k.bit_length() - 1
            path.append(reader.subtree(level, begin >> level))
            begin = mid
    path.reverse()
    return path


def consistency_proof_from(reader: SubtreeReader, old_size: int, new_size: int) -> list[bytes]:
    """Same as `interlock.tlog.consistency_proof(leaves[:new_size], old_size)`."""
    if not 0 <= old_size <= new_size:
        raise ProofRequestError(f"old size {old_size} is not between 0 and {new_size}")
    if old_size in (0, new_size):
        return []
    begin, end, m, whole = 0, new_size, old_size, True
    proof: list[bytes] = []
    while True:
        n = end - begin
        if m == n:
            if not whole:
                proof.append(range_hash(reader, begin, end))
            break
        k = split_point(n)
        if m <= k:
            proof.append(range_hash(reader, begin + k, end))
            end = begin + k
        else:
            proof.append(range_hash(reader, begin, begin + k))
            begin += k
            m -= k
            whole = False
    proof.reverse()
    return proof


def new_complete_subtrees(
    reader: SubtreeReader, size_before: int, leaf_hash: bytes
) -> list[Subtree]:
    """The complete subtrees that exist once leaf number ``size_before`` is appended.

    Level 0 is the leaf itself; one more level for each trailing 1-bit of ``size_before``
    (each needs its left sibling, read from ``reader``). Listed bottom-up.
    """
    if size_before < 0:
        raise ProofRequestError(f"tree size {size_before} is negative")
    out: list[Subtree] = [(0, size_before, leaf_hash)]
    level, index, h = 0, size_before, leaf_hash
    while index & 1:
        h = node_hash(reader.subtree(level, index - 1), h)
        level += 1
        index >>= 1
        out.append((level, index, h))
    return out


class CompactRange:
    """The right border of a tree: one hash per 1-bit of ``size``, largest subtree first.

    Enough to append leaves and to compute the root without reading anything else
    (transparency-dev's "compact range" [0, size)). Mutable; not thread-safe.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if size < 0 or len(self.hashes) != size.bit_count():
            raise ProofRequestError(f"a compact range of size {size} holds one hash per 1-bit")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise ProofRequestError("compact range hashes are 32 bytes")

    @classmethod
    def from_reader(cls, reader: SubtreeReader, size: int) -> CompactRange:
        """The border of the stored tree of ``size`` leaves (popcount(size) reads)."""
        hashes: list[bytes] = []
        pos = 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                hashes.append(reader.subtree(level, pos >> level))
                pos += 1 << level
        return cls(size, hashes)

    def append(self, leaf_hash: bytes) -> list[Subtree]:
        """Add the next leaf; returns the new complete subtrees, as `new_complete_subtrees`."""
        if len(leaf_hash) != HASH_SIZE:
            raise ProofRequestError("a leaf hash is 32 bytes")
        out: list[Subtree] = [(0, self.size, leaf_hash)]
        level, index, h = 0, self.size, leaf_hash
        while index & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            index >>= 1
            out.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return out

    def root(self) -> bytes:
        """The root hash of the tree of ``size`` leaves."""
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for p in reversed(self.hashes[:-1]):
            h = node_hash(p, h)
        return h

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self.hashes)


class MemoryTree:
    """An in-memory `SubtreeReader` holding every complete subtree of the leaves appended."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        self._border = CompactRange()
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return self._border.size

    def append(self, leaf_hash: bytes) -> None:
        for level, index, h in self._border.append(leaf_hash):
            if level == len(self.levels):
                self.levels.append([])
            assert len(self.levels[level]) == index
            self.levels[level].append(h)

    def subtree(self, level: int, index: int) -> bytes:
        """Raises `ProofRequestError` for a subtree that is not complete in this tree."""
        if 0 <= level < len(self.levels) and 0 <= index < len(self.levels[level]):
            return self.levels[level][index]
        raise ProofRequestError(f"no complete subtree at level {level}, index {index}")

    def root(self) -> bytes:
        return self._border.root()
