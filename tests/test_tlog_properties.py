"""Properties of interlock.tlog that hold for every tree up to ~200 leaves.

Exhaustive where it is cheap (every index / every pair of sizes through the O(log n)
`_from` functions), hypothesis-sampled where the list functions rehash the whole tree.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.errors import ProofError
from interlock.tlog import (
    CompactRange,
    MemoryTree,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    inclusion_proof_from,
    leaf_hash,
    new_complete_subtrees,
    root_from,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

MAX = 200
LEAVES = [f"entry {i}".encode() for i in range(MAX)]
HASHES = [leaf_hash(d) for d in LEAVES]
TREE = MemoryTree(HASHES)
ROOTS = [root_hash(LEAVES[:n]) for n in range(MAX + 1)]


class CountingReader:
    """Counts reads, to check the storage functions stay O(log n)."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree, self.reads = tree, 0

    def subtree(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.tree.subtree(level, index)


class RecordingReader:
    """Records which subtrees are read; answers from ``tree``, or with zeros when None."""

    def __init__(self, tree: MemoryTree | None) -> None:
        self.tree = tree
        self.reads: list[tuple[int, int]] = []

    def subtree(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return self.tree.subtree(level, index) if self.tree else bytes(32)


def flip(value: bytes, bit: int) -> bytes:
    b = bytearray(value)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


def test_roots_from_storage_equal_list_roots_for_every_size() -> None:
    border = CompactRange()
    for n in range(MAX + 1):
        assert root_from(TREE, n) == ROOTS[n]
        assert border.root() == ROOTS[n]
        if n < MAX:
            border.append(HASHES[n])
    assert len(set(ROOTS)) == MAX + 1


def test_every_inclusion_proof_verifies_and_is_short() -> None:
    reader = CountingReader(TREE)
    for n in range(1, MAX + 1):
        for i in range(n):
            reader.reads = 0
            proof = inclusion_proof_from(reader, i, n)
            inner = (i ^ (n - 1)).bit_length()
            assert len(proof) == inner + bin(i >> inner).count("1")
            assert reader.reads <= 2 * n.bit_length()
            verify_inclusion(HASHES[i], i, n, proof, ROOTS[n])


def test_every_consistency_proof_verifies() -> None:
    reader = CountingReader(TREE)
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            reader.reads = 0
            proof = consistency_proof_from(reader, m, n)
            assert reader.reads <= 3 * n.bit_length()
            verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)


def test_list_and_storage_proofs_are_identical_for_every_small_tree() -> None:
    for n in range(1, 33):
        for i in range(n):
            assert inclusion_proof(LEAVES[:n], i) == inclusion_proof_from(TREE, i, n)
        for m in range(n + 1):
            assert consistency_proof(LEAVES[:n], m) == consistency_proof_from(TREE, m, n)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_list_and_storage_inclusion_proofs_are_identical(case: tuple[int, int]) -> None:
    n, i = case
    assert inclusion_proof(LEAVES[:n], i) == inclusion_proof_from(TREE, i, n)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_list_and_storage_consistency_proofs_are_identical(case: tuple[int, int]) -> None:
    m, n = case
    assert consistency_proof(LEAVES[:n], m) == consistency_proof_from(TREE, m, n)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, MAX).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.integers(0, 255),
    st.sampled_from(["leaf", "root", "proof", "index", "size"]),
    st.integers(0, 10_000),
)
def test_any_tampering_breaks_an_inclusion_proof(
    case: tuple[int, int], bit: int, where: str, pick: int
) -> None:
    n, i = case
    proof = inclusion_proof_from(TREE, i, n)
    leaf, root, size, index = HASHES[i], ROOTS[n], n, i
    if where == "leaf":
        leaf = flip(leaf, bit)
    elif where == "root":
        root = flip(root, bit)
    elif where == "proof":
        if not proof:
            return
        k = pick % len(proof)
        proof[k] = flip(proof[k], bit)
    elif where == "index":
        index = (i + 1 + pick % n) % (n + 1)
        if index == i:
            index = n
    else:
        size = 1 + (n + pick % MAX) % MAX
        if size == n:
            return
        root = ROOTS[size]
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, MAX).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n))),
    st.integers(0, 255),
    st.sampled_from(["old", "new", "proof", "drop", "old_size"]),
    st.integers(0, 10_000),
)
def test_any_tampering_breaks_a_consistency_proof(
    case: tuple[int, int], bit: int, where: str, pick: int
) -> None:
    m, n = case
    proof = consistency_proof_from(TREE, m, n)
    old, new, old_size = ROOTS[m], ROOTS[n], m
    if where == "old":
        old = flip(old, bit)
    elif where == "new":
        new = flip(new, bit)
    elif where == "proof":
        k = pick % len(proof)
        proof[k] = flip(proof[k], bit)
    elif where == "drop":
        del proof[pick % len(proof)]
    else:
        old_size = 1 + (m + pick % (n - 1)) % (n - 1)
        if old_size == m:
            return
        old = ROOTS[old_size]
    with pytest.raises(ProofError):
        verify_consistency(old_size, n, old, new, proof)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 64), st.data())
def test_a_rewritten_history_is_not_consistent(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n - 1))
    changed = data.draw(st.integers(0, m - 1))
    forged = list(LEAVES[:n])
    forged[changed] = b"rewritten"
    proof = consistency_proof(forged, m)
    verify_consistency(m, n, root_hash(forged[:m]), root_hash(forged), proof)
    with pytest.raises(ProofError):  # the honest old root cannot be reached
        verify_consistency(m, n, ROOTS[m], root_hash(forged), proof)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.integers(1, n), st.just(n))))
def test_the_subtrees_read_do_not_depend_on_hash_values(case: tuple[int, int, int]) -> None:
    # the store relies on this: it records the reads on a dry run, then fetches them at once
    i, m, n = case
    runs: list[Callable[[RecordingReader], object]] = [
        lambda r: root_from(r, n),
        lambda r: inclusion_proof_from(r, i, n),
        lambda r: consistency_proof_from(r, m, n),
    ]
    for run in runs:
        real, fake = RecordingReader(TREE), RecordingReader(None)
        run(real)
        run(fake)
        assert real.reads == fake.reads


def test_new_complete_subtrees_equal_compact_range_appends() -> None:
    border, tree = CompactRange(), MemoryTree()
    for n, h in enumerate(HASHES):
        expected = new_complete_subtrees(tree, n, h)
        assert border.append(h) == expected
        tree.append(h)
        for level, index, value in expected:
            assert value == TREE.subtree(level, index)
            assert (index + 1) << level == n + 1  # each new subtree ends at the new leaf
        assert CompactRange.from_reader(TREE, n + 1).hashes == border.hashes
