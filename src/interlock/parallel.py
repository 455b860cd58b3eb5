"""A pure per-chunk function over a long sequence, on every core, results in order.

`ChunkPool.map(function, items)` cuts `items` into consecutive slices, calls `function(slice)`
on each and yields the results in the order of the slices — in worker processes, or in this
process when there are fewer than `parallel_from` items or at most one worker (starting
workers costs more than it saves there).  `function` must be pure and picklable (a module
level function, or a `functools.partial` of one with picklable arguments).  An exception it
raises comes out of the iteration at its slice, after the results of the slices before it.

Two ways of giving the workers their slices, for two kinds of caller:

- `ChunkPool` keeps one pool for its lifetime and sends each slice through a pipe; `map`
  submits every slice before it returns, so a caller reading a stream batch by batch (the
  audit of a database) starts workers once and folds one batch while the next is computed;
- `map_chunks(..., inherit=True)` is one map over a sequence already in memory (the entries
  of a file): where the platform forks, a fresh pool is forked after the sequence is set
  aside, so the workers read it from their inherited memory and only slice bounds cross a
  pipe.  That pays only for one map — forking a pool per batch would cost a fork per batch —
  hence a choice, not the rule.  Elsewhere it is `ChunkPool.map` with the default start method.

Slice size: about `len(items) / (workers × per_worker)`, at most `max_chunk` (the in-process
slices are `max_chunk` long, or the whole sequence).  More slices per worker balance uneven
work and let the caller start folding sooner; fewer cost less per slice.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_INHERITED: list[tuple[Callable[[Any], Any], Sequence[Any]]] = []  # what forked workers read, while one map runs


def _inherited_slice(positions: Sequence[int]) -> Any:
    """Runs in a forked worker: the inherited function over the inherited items' slice."""
    assert _INHERITED and isinstance(positions, range), "a worker forked without the sequence"
    function, items = _INHERITED[0]
    return function(items[positions.start : positions.stop])


def slices(count: int, size: int) -> list[range]:
    """Consecutive ranges of at most `size` positions covering 0 … count-1 (`size` ≥ 1)."""
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


class ChunkPool:
    """Worker processes (started at the first parallel `map`, stopped on exit) that run a pure
    per-chunk function over slices of a sequence; see the module docstring."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        parallel_from: int = 1,
        per_worker: int = 1,
        max_chunk: int | None = None,
        start_method: str | None = None,
    ) -> None:
        """`workers`: None for one per core; 0 or 1 for in-process only.  `start_method`: a
        `multiprocessing` start method, None for the platform's default."""
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.parallel_from = parallel_from
        self.per_worker = per_worker
        self.max_chunk = max_chunk
        self.start_method = start_method
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers: slices not yet started are dropped, running ones finish."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def in_process(self, count: int) -> bool:
        """Whether `map` over `count` items runs here rather than in workers."""
        return self.workers <= 1 or count == 0 or count < self.parallel_from

    def map(self, function: Callable[[Sequence[T]], R], items: Sequence[T]) -> Iterator[R]:
        """`function` of each slice of `items`, in order (see the module docstring)."""
        count = len(items)
        if self.in_process(count):
            return (function(items[s.start : s.stop]) for s in slices(count, self.max_chunk or max(count, 1)))
        size = max(1, -(-count // (self.workers * self.per_worker)))
        if self.max_chunk is not None:
            size = min(size, self.max_chunk)
        if self._executor is None:
            context = multiprocessing.get_context(self.start_method)
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        executor = self._executor
        futures: list[Future[R]] = [executor.submit(function, items[s.start : s.stop]) for s in slices(count, size)]
        return (future.result() for future in futures)


def map_chunks(
    function: Callable[[Sequence[T]], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    parallel_from: int = 1,
    per_worker: int = 1,
    max_chunk: int | None = None,
    inherit: bool = False,
) -> Iterator[R]:
    """One `ChunkPool.map` with its own pool, stopped when the iteration ends.  With `inherit`
    where the platform forks, the workers are forked after `items` is set aside and read it
    from their inherited memory (only slice bounds cross a pipe); otherwise each slice is
    pickled to a worker started by the platform's default method.  Not reentrant with
    `inherit`: one such map at a time per process."""
    with ChunkPool(workers, parallel_from=parallel_from, per_worker=per_worker, max_chunk=max_chunk) as pool:
        if not inherit or pool.in_process(len(items)) or "fork" not in multiprocessing.get_all_start_methods():
            yield from pool.map(function, items)
            return
        pool.start_method = "fork"
        _INHERITED[:] = [(function, items)]
        try:
            yield from pool.map(_inherited_slice, range(len(items)))
        finally:
            _INHERITED.clear()
