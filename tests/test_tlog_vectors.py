"""interlock.tlog against the RFC 6962/9162 reference tree and transparency-dev/merkle edge rules.

The vectors in tests/data/rfc6962_reference_tree.json come from transparency-dev/merkle
(testonly/constants.go and proof/verify_test.go, originally certificate-transparency's C++
merkle_tree_test); see its "source" field. Expected values are never produced by the code
under test.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from conftest import DATA
from interlock.errors import ProofError, ProofRequestError
from interlock.tlog import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    inclusion_proof_from,
    leaf_hash,
    node_hash,
    root_from,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

VEC = json.loads((DATA / "rfc6962_reference_tree.json").read_text())
LEAVES = [bytes.fromhex(x) for x in VEC["leaves"]]
LEAF_HASHES = [bytes.fromhex(x) for x in VEC["leaf_hashes"]]
ROOTS = [bytes.fromhex(x) for x in VEC["roots_by_size"]]


def hx(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_hash_primitives_match_hashlib_by_hand() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"") == LEAF_HASHES[0]
    a, b = b"a" * 32, b"b" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)


def test_leaf_hashes_and_roots_of_every_prefix() -> None:
    assert [leaf_hash(d) for d in LEAVES] == LEAF_HASHES
    for n, expected in enumerate(ROOTS):
        assert root_hash(LEAVES[:n]) == expected, n
        assert root_from(MemoryTree(LEAF_HASHES[:n]), n) == expected, n
    # the split is "largest power of two < n", not Bitcoin-style duplication: size 3 is
    # H(1 ‖ H(1 ‖ l0 ‖ l1) ‖ l2)
    l0, l1, l2 = LEAF_HASHES[:3]
    assert ROOTS[3] == hashlib.sha256(
        b"\x01" + hashlib.sha256(b"\x01" + l0 + l1).digest() + l2
    ).digest()
    assert ROOTS[3].hex().startswith("aeb6bcfe")
    assert ROOTS[8].hex().startswith("5dc9da79")


def test_memory_tree_holds_the_reference_node_hashes() -> None:
    tree = MemoryTree(LEAF_HASHES)
    for level, row in enumerate(VEC["node_hashes_by_level"]):
        for i, h in enumerate(row):
            assert tree.subtree(level, i).hex() == h
    with pytest.raises(ProofRequestError):
        tree.subtree(3, 1)


@pytest.mark.parametrize("case", VEC["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}of{c['tree_size']}")
def test_reference_inclusion_proofs(case: dict[str, Any]) -> None:
    index, size = int(case["leaf_index"]), int(case["tree_size"])
    expected = hx(case["proof"])
    assert inclusion_proof(LEAVES[:size], index) == expected
    assert inclusion_proof_from(MemoryTree(LEAF_HASHES), index, size) == expected
    verify_inclusion(LEAF_HASHES[index], index, size, expected, ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[index], index, size, expected, ROOTS[size - 1])


@pytest.mark.parametrize("case", VEC["consistency_proofs"], ids=lambda c: f"{c['size1']}to{c['size2']}")
def test_reference_consistency_proofs(case: dict[str, Any]) -> None:
    s1, s2 = int(case["size1"]), int(case["size2"])
    expected = hx(case["proof"])
    assert consistency_proof(LEAVES[:s2], s1) == expected
    assert consistency_proof_from(MemoryTree(LEAF_HASHES), s1, s2) == expected
    verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], expected)
    if s1 != s2:
        with pytest.raises(ProofError):
            verify_consistency(s1, s2, ROOTS[s2], ROOTS[s1], expected)


def test_inclusion_edge_rules() -> None:
    proof = inclusion_proof(LEAVES, 5)
    good = (LEAF_HASHES[5], 5, 8, proof, ROOTS[8])
    verify_inclusion(*good)
    for bad in [
        (LEAF_HASHES[5], 8, 8, proof, ROOTS[8]),  # index == size
        (LEAF_HASHES[5], -1, 8, proof, ROOTS[8]),
        (LEAF_HASHES[5], 5, 0, [], EMPTY_ROOT),
        (LEAF_HASHES[5][:31], 5, 8, proof, ROOTS[8]),  # short leaf hash
        (LEAF_HASHES[5], 5, 8, proof, ROOTS[8] + b"\x00"),  # long root
        (LEAF_HASHES[5], 5, 8, proof[:-1], ROOTS[8]),  # truncated
        (LEAF_HASHES[5], 5, 8, [*proof, ROOTS[8]], ROOTS[8]),  # extended
        (LEAF_HASHES[5], 5, 8, [proof[0][:16], *proof[1:]], ROOTS[8]),
        (LEAF_HASHES[5], 4, 8, proof, ROOTS[8]),  # wrong index
        (LEAF_HASHES[5], 5, 7, proof, ROOTS[7]),  # wrong size
    ]:
        with pytest.raises(ProofError):
            verify_inclusion(*bad)
    # a tree of one leaf: empty proof, root is the leaf hash
    verify_inclusion(LEAF_HASHES[0], 0, 1, [], ROOTS[1])
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[0], 0, 1, [LEAF_HASHES[1]], ROOTS[1])


def test_consistency_edge_rules_follow_upstream() -> None:
    # transparency-dev/merkle RootFromConsistencyProof: size1 == 0 is an error, even 0 -> 0
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError):
        verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    with pytest.raises(ProofError):  # size2 < size1
        verify_consistency(8, 6, ROOTS[8], ROOTS[6], consistency_proof(LEAVES, 6))
    verify_consistency(4, 4, ROOTS[4], ROOTS[4], [])
    with pytest.raises(ProofError):  # equal sizes need an empty proof
        verify_consistency(4, 4, ROOTS[4], ROOTS[4], [ROOTS[4]])
    with pytest.raises(ProofError, match="two different roots"):  # split view at equal size
        verify_consistency(4, 4, ROOTS[4], ROOTS[5], [])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [])
    proof = consistency_proof(LEAVES, 6)
    with pytest.raises(ProofError):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [*proof, ROOTS[8]])
    with pytest.raises(ProofError):
        verify_consistency(6, 8, ROOTS[6][:31], ROOTS[8], proof)
    with pytest.raises(ProofError):
        verify_consistency(5, 8, ROOTS[6], ROOTS[8], proof)


def test_generation_refuses_proofs_the_tree_cannot_have() -> None:
    with pytest.raises(ProofRequestError):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ProofRequestError):
        inclusion_proof([], 0)
    with pytest.raises(ProofRequestError):
        consistency_proof(LEAVES, 9)
    with pytest.raises(ProofRequestError):
        consistency_proof(LEAVES, -1)
    tree = MemoryTree(LEAF_HASHES)
    with pytest.raises(ProofRequestError):
        inclusion_proof_from(tree, 3, 3)
    with pytest.raises(ProofRequestError):
        consistency_proof_from(tree, 5, 4)
    # nothing to prove from the empty tree or to the same size
    assert consistency_proof(LEAVES, 0) == []
    assert consistency_proof(LEAVES, 8) == []
    assert consistency_proof_from(tree, 0, 8) == []


def test_compact_range_appends_without_reads() -> None:
    border = CompactRange()
    assert border.root() == EMPTY_ROOT
    added = []
    for h in LEAF_HASHES:
        added.append(border.append(h))
        assert border.root() == ROOTS[border.size]
        assert len(border.hashes) == bin(border.size).count("1")
    # appending leaf 7 (size 7 = 0b111) completes levels 1, 2 and 3
    assert [(lvl, idx) for lvl, idx, _ in added[7]] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert added[7][3][2] == ROOTS[8]
    assert [(lvl, idx) for lvl, idx, _ in added[4]] == [(0, 4)]
    again = CompactRange.from_reader(MemoryTree(LEAF_HASHES), 6)
    assert again.hashes == [bytes.fromhex(VEC["node_hashes_by_level"][2][0]),
                            bytes.fromhex(VEC["node_hashes_by_level"][1][2])]
    assert again.root() == ROOTS[6]
    with pytest.raises(ProofRequestError):
        CompactRange(3, [ROOTS[1]])
