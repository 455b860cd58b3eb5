"""interlock.parallel: slices in order, in-process below the threshold, errors at their slice.

The per-chunk functions report the process they ran in (os.getpid()), so where the work ran
is observable; the expected slices are written out by hand from the sizing rule
(about len / (workers × per_worker), at most max_chunk).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from interlock import parallel
from interlock.parallel import ChunkPool, map_chunks


def _where(chunk: Sequence[int]) -> tuple[list[int], int]:
    return list(chunk), os.getpid()


def _refuse_nine(chunk: Sequence[int]) -> list[int]:
    if 9 in chunk:
        raise ValueError("nine")
    return list(chunk)


def test_workers_return_uneven_slices_in_input_order() -> None:
    # 11 items, 2 workers × 2 slices each: ceil(11 / 4) = 3 per slice, the last one short
    with ChunkPool(2, per_worker=2) as pool:
        results = list(pool.map(_where, list(range(11))))
    assert [chunk for chunk, _ in results] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10]]
    assert all(pid != os.getpid() for _, pid in results)


def test_max_chunk_caps_the_slices_and_the_pool_serves_several_maps() -> None:
    with ChunkPool(2, max_chunk=2) as pool:
        first = list(pool.map(_where, [10, 11, 12, 13, 14, 15, 16]))
        second = list(pool.map(_where, [20, 21, 22]))
    assert [chunk for chunk, _ in first] == [[10, 11], [12, 13], [14, 15], [16]]
    assert [chunk for chunk, _ in second] == [[20, 21], [22]]
    workers = {pid for _, pid in first + second}
    assert os.getpid() not in workers
    assert len(workers) <= 2  # one pool of two workers for both maps


def test_below_the_threshold_it_runs_in_this_process() -> None:
    with ChunkPool(2, parallel_from=12, max_chunk=4) as pool:
        results = list(pool.map(_where, list(range(11))))
    assert [chunk for chunk, _ in results] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert {pid for _, pid in results} == {os.getpid()}


@pytest.mark.parametrize("workers", [0, 1])
def test_one_worker_or_none_runs_in_this_process_in_one_slice(workers: int) -> None:
    results = list(map_chunks(_where, list(range(9000)), workers=workers))
    assert len(results) == 1
    assert results[0] == (list(range(9000)), os.getpid())


def test_nothing_to_do_gives_no_slices() -> None:
    assert list(map_chunks(_where, [], workers=2, inherit=True)) == []
    with ChunkPool(2) as pool:
        assert list(pool.map(_where, [])) == []


def test_inherited_items_are_read_by_forked_workers_not_pickled() -> None:
    # a closure cannot be pickled: it reaches the workers only by their inheriting it
    offset = 100

    def shifted(chunk: Sequence[int]) -> tuple[list[int], int]:
        return [n + offset for n in chunk], os.getpid()

    results = list(map_chunks(shifted, list(range(10)), workers=2, per_worker=2, inherit=True))
    assert [chunk for chunk, _ in results] == [[100, 101, 102], [103, 104, 105], [106, 107, 108], [109]]
    assert all(pid != os.getpid() for _, pid in results)
    assert parallel._INHERITED == []  # set aside only while the map runs


@pytest.mark.parametrize(("workers", "inherit"), [(1, False), (2, False), (2, True)])
def test_an_error_comes_out_at_its_slice_after_the_earlier_results(workers: int, inherit: bool) -> None:
    results = map_chunks(_refuse_nine, list(range(12)), workers=workers, per_worker=2, max_chunk=3,
                         inherit=inherit)
    assert next(results) == [0, 1, 2]
    assert next(results) == [3, 4, 5]
    assert next(results) == [6, 7, 8]
    with pytest.raises(ValueError, match="nine"):
        next(results)
