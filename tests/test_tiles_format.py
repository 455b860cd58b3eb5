"""interlock.tiles against c2sp.org/tlog-tiles and Go's sumdb tile arithmetic.

Expected values come from the spec text (the 1234067 path, the 70,000- and 256-leaf
examples) and from golang.org/x/mod/sumdb/tlog tile_test.go (TestNewTilesForSize, height 10).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.errors import ProofError, TileError
from interlock.tiles import (
    TILE_WIDTH,
    Tile,
    TileHashReader,
    _changed_tiles,
    encode_index,
    entry_bundle,
    new_tiles,
    parse_entry_bundle,
    parse_tile_path,
    split_tile,
    tile_data,
    tiles_for_size,
)
from interlock.tlog import (
    MemoryTree,
    consistency_proof_from,
    inclusion_proof_from,
    leaf_hash,
    root_from,
    root_hash,
    verify_inclusion,
)

N = 70_000
ENTRIES = [f"entry {i}".encode() for i in range(N)]
TREE = MemoryTree(leaf_hash(e) for e in ENTRIES)


def test_spec_index_encoding_and_paths() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert encode_index(999) == "999"
    assert encode_index(1000) == "x001/000"
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(2, 5, 17).path == "tile/2/005.p/17"
    assert Tile(0, 3, 255, entries=True).path == "tile/entries/003.p/255"
    assert parse_tile_path("tile/1/x001/234.p/17") == Tile(1, 1234, 17)
    assert parse_tile_path("tile/entries/x001/000") == Tile(0, 1000, entries=True)
    assert parse_tile_path("tile/63/000") == Tile(63, 0)


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",  # leading zero in L
        "tile/64/000",  # L > 63
        "tile/-1/000",
        "tile/0/1",  # N not 3 digits
        "tile/0/0001",
        "tile/0/x000/001",  # non-canonical extra group
        "tile/0/001/002",  # missing x prefix
        "tile/0/000.p/0",
        "tile/0/000.p/007",
        "tile/0/000.p/256",
        "tile/3/5/x123/x456/078",  # Go sumdb scheme (height in the path): not tlog-tiles
        "tile/entries/000.p/",
        "tile/data/000",
        "/tile/0/000",
        "tile/0/000/",
    ],
)
def test_non_canonical_paths_are_refused(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 63), st.integers(0, 10**15), st.integers(1, 256), st.booleans())
def test_every_tile_path_parses_back(level: int, index: int, width: int, entries: bool) -> None:
    tile = Tile(0 if entries else level, index, width, entries)
    assert parse_tile_path(tile.path) == tile


def test_spec_tiles_of_a_70000_leaf_tree() -> None:
    tiles = list(tiles_for_size(70_000))
    full0 = [t for t in tiles if t.level == 0 and t.is_full]
    assert len(full0) == 273
    partial = {(t.level, t.width) for t in tiles if not t.is_full}
    assert partial == {(0, 112), (1, 17), (2, 1)}
    assert [t for t in tiles if t.level == 1 and t.is_full] == [Tile(1, 0)]
    assert len(tiles) == 273 + 1 + 1 + 1 + 1
    assert [t.path for t in tiles_for_size(256)] == ["tile/0/000", "tile/1/000.p/1"]
    assert list(tiles_for_size(0)) == []
    bundles = list(tiles_for_size(70_000, entries=True))
    assert len(bundles) == 274 and bundles[-1] == Tile(0, 273, 112, entries=True)
    assert all(t.fits(70_000) for t in tiles)
    assert not Tile(0, 273, 113).fits(70_000)
    assert not Tile(1, 1).fits(70_000)


@pytest.mark.parametrize(
    ("old", "new", "count"),
    [(1, 1, 0), (100, 101, 1), (1023, 1025, 3), (1024, 1030, 1), (1030, 2000, 1), (1030, 10000, 10),
     (49516517, 49516586, 3)],
)
def test_go_new_tiles_counts_at_height_10(old: int, new: int, count: int) -> None:
    assert len(_changed_tiles(old, new, 10)) == count


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3 * 65536), st.integers(0, 3 * 65536))
def test_new_tiles_are_exactly_the_tiles_that_changed(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    expected = set(tiles_for_size(new)) - set(tiles_for_size(old))
    got = new_tiles(old, new)
    assert set(got) == expected
    assert len(got) == len(expected)


def test_tile_contents_are_the_spec_subtree_hashes() -> None:
    tile0 = tile_data(TREE, Tile(0, 7))
    assert split_tile(tile0, Tile(0, 7)) == [leaf_hash(e) for e in ENTRIES[7 * 256 : 8 * 256]]
    tile1 = split_tile(tile_data(TREE, Tile(1, 0, 17)), Tile(1, 0, 17))
    # level 1, hash i = MTH(D[i*256 : (i+1)*256]), computed here by the list function
    for i in (0, 5, 16):
        assert tile1[i] == root_hash(ENTRIES[i * 256 : (i + 1) * 256])
    tile2 = tile_data(TREE, Tile(2, 0, 1))
    assert tile2 == root_hash(ENTRIES[:65536])
    with pytest.raises(TileError):
        split_tile(tile0[:-1], Tile(0, 7))
    with pytest.raises(TileError):
        tile_data(TREE, Tile(0, 0, entries=True))


def test_entry_bundles() -> None:
    assert entry_bundle([b"ab", b""]) == b"\x00\x02ab\x00\x00"
    bundle = entry_bundle(ENTRIES[256:512])
    assert parse_entry_bundle(bundle, 256) == ENTRIES[256:512]
    # each entry hashes to the matching hash of the level-0 tile
    tile = split_tile(tile_data(TREE, Tile(0, 1)), Tile(0, 1))
    assert [leaf_hash(e) for e in parse_entry_bundle(bundle)] == tile
    assert parse_entry_bundle(entry_bundle([b"x" * 65535])) == [b"x" * 65535]
    with pytest.raises(TileError):
        entry_bundle([b"x" * 65536])
    with pytest.raises(TileError):
        entry_bundle([])
    with pytest.raises(TileError):
        parse_entry_bundle(bundle[:-1])
    with pytest.raises(TileError):
        parse_entry_bundle(b"\x00")
    with pytest.raises(TileError):
        parse_entry_bundle(bundle, 255)


@pytest.mark.parametrize("size", [1, 255, 256, 257, 65535, 65536, 65537, 70_000])
def test_proofs_from_tiles_equal_proofs_from_storage(size: int) -> None:
    fetched: list[Tile] = []

    def fetch(tile: Tile) -> bytes:
        assert tile.fits(size)  # a client only asks for tiles the checkpoint implies
        fetched.append(tile)
        return tile_data(TREE, tile)

    reader = TileHashReader(size, fetch)
    assert root_from(reader, size) == root_from(TREE, size)
    rnd = random.Random(size)
    for index in {0, size - 1, rnd.randrange(size)}:
        proof = inclusion_proof_from(reader, index, size)
        assert proof == inclusion_proof_from(TREE, index, size)
        verify_inclusion(leaf_hash(ENTRIES[index]), index, size, proof, root_from(TREE, size))
    old = rnd.randrange(1, size + 1)
    assert consistency_proof_from(reader, old, size) == consistency_proof_from(TREE, old, size)
    assert len(fetched) == len(set(fetched))  # tiles are cached
    assert len(fetched) <= 2 * (1 + size.bit_length() // 8) + 2


def test_a_tampered_tile_does_not_match_the_checkpoint_root() -> None:
    size = 70_000
    root = root_from(TREE, size)

    def fetch(tile: Tile) -> bytes:
        data = bytearray(tile_data(TREE, tile))
        if tile == Tile(0, 273, 112):
            data[5] ^= 1
        return bytes(data)

    reader = TileHashReader(size, fetch)
    assert root_from(reader, size) != root
    proof = inclusion_proof_from(reader, 69_999, size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(ENTRIES[69_999]), 69_999, size, proof, root)
    with pytest.raises(TileError):
        reader.subtree(0, size)


def test_tile_width_constant() -> None:
    assert TILE_WIDTH == 256
    with pytest.raises(TileError):
        Tile(0, 0, 257)
    with pytest.raises(TileError):
        Tile(0, 0, 0)
    with pytest.raises(TileError):
        Tile(1, 0, entries=True)
