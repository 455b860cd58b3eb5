"""Reading the stored tree: complete-subtree rows → roots and proofs in one query each.

`interlock.tlog`'s `*_from` functions ask a `SubtreeReader` for O(log n) complete subtrees
one at a time.  Which ones they ask for depends only on indices and sizes, never on hash
values, so `compute` runs the function twice: first against a recorder that notes every
(level, index) it is asked for, then — after fetching the missing rows with a single
`SELECT` (an OR of primary-key equalities) — against the filled-in map.  A proof therefore costs
one round trip to the database whatever the tree size.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, TextClause, text

from interlock.errors import LogCorruptError, ProofRequestError
from interlock.tlog import SubtreeReader, node_hash
from interlock.tlog_hash import split_point

T = TypeVar("T")
Key = tuple[int, int]
_PLACEHOLDER = b"\x00" * 32
_CHUNK = 200  # subtrees per query (600 parameters: well under every backend's limit)


class _Recorder:
    def __init__(self, known: dict[Key, bytes]) -> None:
        self.known = known
        self.missing: set[Key] = set()

    def subtree(self, level: int, index: int) -> bytes:
        found = self.known.get((level, index))
        if found is None:
            self.missing.add((level, index))
            return _PLACEHOLDER
        return found


class MapReader:
    """A `SubtreeReader` over a dict; a missing subtree means the stored tree is broken."""

    def __init__(self, known: dict[Key, bytes], log_id: str) -> None:
        self.known = known
        self.log_id = log_id

    def subtree(self, level: int, index: int) -> bytes:
        try:
            return self.known[(level, index)]
        except KeyError:
            raise LogCorruptError(
                f"log {self.log_id}: the stored tree lacks subtree level {level} index {index}"
            ) from None


@functools.cache
def _lookup(count: int) -> TextClause:
    """SELECT of `count` subtrees: an OR of full primary-key equalities.  SQLite plans it as
    one index probe per term ("MULTI-INDEX OR"), PostgreSQL as a bitmap OR; a row-value
    `IN` list would scan the whole log.  Plain text: building it as a SQLAlchemy expression
    costs more than the query itself."""
    terms = " OR ".join(f"(log_id = :log AND level = :l{i} AND idx = :i{i})" for i in range(count))
    return text(f"SELECT level, idx, hash FROM nodes WHERE {terms}")


_PG_LOOKUP = text(
    "SELECT n.level, n.idx, n.hash FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS k(level, idx)"
    " JOIN nodes AS n ON n.log_id = :log AND n.level = k.level AND n.idx = k.idx"
)
"""PostgreSQL: the wanted keys as two arrays joined to the primary key — one plan whatever the
number of keys (an OR of 40 terms costs more to plan than to run)."""


def fetch_subtrees(conn: Connection, log_id: str, keys: Iterable[Key]) -> dict[Key, bytes]:
    """The stored hashes of the given complete subtrees (missing rows are simply absent)."""
    wanted = sorted(set(keys))
    found: dict[Key, bytes] = {}
    if conn.dialect.name == "postgresql" and wanted:
        rows = conn.execute(_PG_LOOKUP, {"log": log_id, "levels": [lv for lv, _ in wanted],
                                         "idxs": [ix for _, ix in wanted]})
        return {(level, idx): bytes(value) for level, idx, value in rows}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        params: dict[str, Any] = {"log": log_id}
        for i, (level, index) in enumerate(chunk):
            params[f"l{i}"] = level
            params[f"i{i}"] = index
        for level, idx, value in conn.execute(_lookup(len(chunk)), params):
            found[(level, idx)] = bytes(value)
    return found


def compute(
    conn: Connection,
    log_id: str,
    function: Callable[[SubtreeReader], T],
    known: dict[Key, bytes] | None = None,
) -> T:
    """Run `function(reader)` with every subtree it needs fetched in one query.

    `known` (updated in place) may hold subtrees already at hand, e.g. the ones a batch has
    just written.  Raises `LogCorruptError` when a needed row is absent.
    """
    have = {} if known is None else known
    recorder = _Recorder(have)
    function(recorder)
    if recorder.missing:
        have.update(fetch_subtrees(conn, log_id, recorder.missing))
    return function(MapReader(have, log_id))


def batch_inclusion_proofs(reader: SubtreeReader, indices: Iterable[int], size: int) -> dict[int, list[bytes]]:
    """RFC 9162 inclusion proofs (PATH, bottom-up) of several leaves in the tree of `size`,
    computing each node once: the proofs of a batch of appended entries share almost every
    node, and `inclusion_proof_from` would rebuild the shared right-hand parts per proof."""
    memo: dict[tuple[int, int], bytes] = {}

    def mth(begin: int, end: int) -> bytes:
        found = memo.get((begin, end))
        if found is None:
            width = end - begin
            if width & (width - 1) == 0 and begin % width == 0:
                level = width.bit_length() - 1
                found = reader.subtree(level, begin >> level)
            else:
                mid = begin + split_point(width)
                found = node_hash(mth(begin, mid), mth(mid, end))
            memo[(begin, end)] = found
        return found

    proofs: dict[int, list[bytes]] = {}

    def walk(begin: int, end: int, targets: list[int]) -> None:
        """Append to each target's proof the siblings below [begin, end), bottom-up."""
        if end - begin == 1:
            return
        mid = begin + split_point(end - begin)
        cut = bisect_left(targets, mid)
        left, right = targets[:cut], targets[cut:]
        if left:
            walk(begin, mid, left)
            sibling = mth(mid, end)
            for t in left:
                proofs[t].append(sibling)
        if right:
            walk(mid, end, right)
            sibling = mth(begin, mid)
            for t in right:
                proofs[t].append(sibling)

    wanted = sorted(set(indices))
    if wanted and not 0 <= wanted[0] <= wanted[-1] < size:
        raise ProofRequestError(f"leaf indices {wanted[0]}…{wanted[-1]} are not all in a tree of size {size}")
    for t in wanted:
        proofs[t] = []
    if wanted:
        walk(0, size, wanted)
    return proofs
