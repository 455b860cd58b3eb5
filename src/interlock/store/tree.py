"""Reading the stored tree: complete-subtree rows → roots and proofs in one query each.

`interlock.tlog`'s `*_from` functions ask a `SubtreeReader` for O(log n) complete subtrees
one at a time.  Which ones they ask for depends only on indices and sizes, never on hash
values, so `compute` runs the function twice: first against a recorder that notes every
(level, index) it is asked for, then — after fetching the missing rows with a single
`SELECT … WHERE (level, idx) IN (…)` — against the filled-in map.  A proof therefore costs
one round trip to the database whatever the tree size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import Connection, select, tuple_

from interlock.errors import LogCorruptError
from interlock.store.schema import nodes
from interlock.tlog import SubtreeReader

T = TypeVar("T")
Key = tuple[int, int]
_PLACEHOLDER = b"\x00" * 32
_CHUNK = 400  # row-value pairs per IN list (well under every backend's parameter limit)


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


def fetch_subtrees(conn: Connection, log_id: str, keys: Iterable[Key]) -> dict[Key, bytes]:
    """The stored hashes of the given complete subtrees (missing rows are simply absent)."""
    wanted = sorted(set(keys))
    found: dict[Key, bytes] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = conn.execute(
            select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(
                nodes.c.log_id == log_id, tuple_(nodes.c.level, nodes.c.idx).in_(chunk)
            )
        )
        for level, idx, value in rows:
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


class DatabaseReader:
    """A plain `SubtreeReader` over the `nodes` table: one query per subtree (for tests)."""

    def __init__(self, conn: Connection, log_id: str) -> None:
        self.conn = conn
        self.log_id = log_id

    def subtree(self, level: int, index: int) -> bytes:
        return MapReader(fetch_subtrees(self.conn, self.log_id, [(level, index)]), self.log_id).subtree(
            level, index
        )
