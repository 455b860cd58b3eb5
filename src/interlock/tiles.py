"""C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, which tiles a tree has, tile contents.

A tile at level L, index N holds up to 256 consecutive hashes of level-8L complete subtrees:
hash i is MTH(D[(N·256 + i)·256**L : (N·256 + i + 1)·256**L]), i.e. the `SubtreeReader`
row (8L, N·256 + i). Full tiles are 256 hashes (8,192 bytes); the rightmost tile of each
level is partial for most sizes, width floor(size / 256**L) mod 256, and is never hashed
upward. Paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]`` with N written as
3-digit groups, all but the last prefixed ``x`` (1234067 → ``x001/x234/067``). An entry
bundle is the entries of the level-0 tile N, each prefixed by its big-endian uint16 length.

`TileHashReader` turns fetched tiles back into a `SubtreeReader`, so a client holding only a
verified checkpoint and tiles can compute any proof with `interlock.tlog`. Pure; the fetch
function is the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from interlock.errors import TileError
from interlock.tlog_hash import HASH_SIZE, node_hash
from interlock.tlog_subtrees import SubtreeReader

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF

_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


@dataclass(frozen=True)
class Tile:
    """A tile (``level`` ≥ 0) or, with ``entries`` set, an entry bundle (level 0 positions)."""

    level: int
    index: int
    width: int = TILE_WIDTH
    entries: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_LEVEL or (self.entries and self.level != 0):
            raise TileError(f"tile level {self.level} is out of range 0..{MAX_LEVEL}")
        if self.index < 0:
            raise TileError(f"tile index {self.index} is negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"tile width {self.width} is out of range 1..{TILE_WIDTH}")

    @property
    def path(self) -> str:
        """The path below the log's prefix, e.g. ``tile/1/x001/234.p/17``."""
        level = "entries" if self.entries else str(self.level)
        partial = f".p/{self.width}" if self.width < TILE_WIDTH else ""
        return f"tile/{level}/{encode_index(self.index)}{partial}"

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def start(self) -> int:
        """Index of the first leaf this tile spans."""
        return self.index << (TILE_HEIGHT * (self.level + 1))

    def fits(self, size: int) -> bool:
        """Whether a tree of ``size`` leaves holds every hash (or entry) of this tile."""
        return (self.index * TILE_WIDTH + self.width) << (TILE_HEIGHT * self.level) <= size


def encode_index(n: int) -> str:
    """N as zero-padded 3-digit path elements, all but the last prefixed with ``x``."""
    if n < 0:
        raise TileError(f"tile index {n} is negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``; raises `TileError`.

    Only canonical paths are accepted (no leading zeros in L or W, no extra ``x000`` groups),
    so each tile has exactly one path.
    """
    m = _PATH.fullmatch(path)
    if m is None:
        raise TileError(f"{path[:100]!r} is not a tile path")
    level_text, index_text, width_text = m.groups()
    index = int(index_text.replace("x", "").replace("/", ""))
    width = int(width_text) if width_text else TILE_WIDTH
    entries = level_text == "entries"
    if width_text and width >= TILE_WIDTH:
        raise TileError(f"partial tile width {width} must be below {TILE_WIDTH}")
    tile = Tile(0 if entries else int(level_text), index, width, entries)
    if tile.path != path:
        raise TileError(f"{path[:100]!r} is not the canonical path of its tile")
    return tile


# --- which tiles a tree has ------------------------------------------------------------------


def tiles_for_size(size: int, *, entries: bool = False) -> Iterator[Tile]:
    """Every tile (or entry bundle) of a tree of ``size`` leaves: full ones, then the partial.

    Level by level from 0 up (entry bundles are level 0 only); empty tiles are never listed.
    """
    if size < 0:
        raise TileError(f"tree size {size} is negative")
    level = 0
    while size >> (TILE_HEIGHT * level):
        hashes = size >> (TILE_HEIGHT * level)
        for n in range(hashes // TILE_WIDTH):
            yield Tile(level, n, TILE_WIDTH, entries)
        if hashes % TILE_WIDTH:
            yield Tile(level, hashes // TILE_WIDTH, hashes % TILE_WIDTH, entries)
        if entries:
            return
        level += 1


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """The tiles (widths as of ``new_size``) whose contents differ from those at ``old_size``.

    What a server must (re)publish after growing from old_size to new_size, level by level.
    """
    return [Tile(level, n, w) for level, n, w in _changed_tiles(old_size, new_size, TILE_HEIGHT)]


def _changed_tiles(old_size: int, new_size: int, height: int) -> list[tuple[int, int, int]]:
    """(level, index, width) of changed tiles for any tile height (Go's sumdb uses others)."""
    if not 0 <= old_size <= new_size:
        raise TileError(f"tree size cannot shrink from {old_size} to {new_size}")
    width = 1 << height
    out: list[tuple[int, int, int]] = []
    level = 0
    while True:
        old = old_size >> (height * level)
        new = new_size >> (height * level)
        if old == new:
            return out
        for n in range(old // width, -(-new // width)):
            out.append((level, n, min(width, new - n * width)))
        level += 1


# --- tile contents ---------------------------------------------------------------------------


def tile_data(reader: SubtreeReader, tile: Tile) -> bytes:
    """The bytes of a hash tile, read from stored complete subtrees (``width`` reads)."""
    if tile.entries:
        raise TileError("an entry bundle holds entries, not hashes")
    first = tile.index * TILE_WIDTH
    level = TILE_HEIGHT * tile.level
    return b"".join(reader.subtree(level, first + i) for i in range(tile.width))


def split_tile(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes of a fetched tile; raises `TileError` if its length does not match."""
    if len(data) != HASH_SIZE * tile.width:
        raise TileError(f"{tile.path} must hold {tile.width} hashes, not {len(data)} bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a bundle: each as a big-endian uint16 length then its bytes."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileError(f"an entry bundle holds 1..{TILE_WIDTH} entries, not {len(entries)}")
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry {i} is {len(entry)} bytes; bundles allow {MAX_ENTRY_SIZE}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries of a bundle; raises `TileError` if truncated or not ``width`` entries."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError("the entry bundle ends inside a length prefix")
        n = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + n > len(data):
            raise TileError("the entry bundle ends inside an entry")
        entries.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    if width is not None and len(entries) != width:
        raise TileError(f"the entry bundle holds {len(entries)} entries, not {width}")
    return entries


class TileHashReader:
    """A `SubtreeReader` over the tiles of a tree of ``size`` leaves, fetched on demand.

    ``fetch(tile)`` returns a tile's bytes (e.g. an HTTP GET of ``tile.path``); tiles are
    cached. Hashes are not authenticated here: compare `root_from(reader, size)` with a
    verified checkpoint before trusting any proof computed from them.
    """

    def __init__(self, size: int, fetch: Callable[[Tile], bytes]) -> None:
        self.size = size
        self._fetch = fetch
        self._cache: dict[tuple[int, int], list[bytes]] = {}

    def _tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._cache:
            hashes = self.size >> (TILE_HEIGHT * level)
            width = min(TILE_WIDTH, hashes - index * TILE_WIDTH)
            if width <= 0:
                raise TileError(f"tile {level}/{index} is beyond a tree of size {self.size}")
            tile = Tile(level, index, width)
            self._cache[key] = split_tile(self._fetch(tile), tile)
        return self._cache[key]

    def subtree(self, level: int, index: int) -> bytes:
        tile_level, rest = divmod(level, TILE_HEIGHT)
        first = index << rest  # position of the first level-8L hash in this subtree
        if (first + (1 << rest)) << (TILE_HEIGHT * tile_level) > self.size:
            raise TileError(f"subtree {level}/{index} is not complete in a tree of size {self.size}")
        hashes = self._tile(tile_level, first // TILE_WIDTH)
        row = hashes[first % TILE_WIDTH : first % TILE_WIDTH + (1 << rest)]
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]
