"""The server's read cache: freshness bounds, invalidation, and one computation per key."""

from __future__ import annotations

import asyncio

import pytest

from interlock.server.reads import ReadCache
from interlock.store import StoredCheckpoint


def test_checkpoint_is_served_for_at_most_ttl_and_dropped_on_invalidate() -> None:
    now = [100.0]
    cache = ReadCache(ttl=0.2, clock=lambda: now[0])
    checkpoint = StoredCheckpoint(3, b"\x00" * 32, "note\n", "2026-03-03T08:00:00Z")
    cache.keep_checkpoint("plan", checkpoint)
    now[0] += 0.19
    assert cache.checkpoint("plan") is checkpoint
    now[0] += 0.02
    assert cache.checkpoint("plan") is None  # older than the ttl
    cache.keep_checkpoint("plan", checkpoint)
    cache.invalidate("plan")
    assert cache.checkpoint("plan") is None
    assert cache.checkpoint("other") is None


def test_status_entries_are_bounded() -> None:
    cache = ReadCache(capacity=2)
    for n in range(3):
        cache.keep_status("plan", n, "2026-03-03T08:00:00Z", b"%d" % n)
    assert cache.status("plan", 0, "2026-03-03T08:00:00Z") is None  # the oldest was dropped
    assert cache.status("plan", 2, "2026-03-03T08:00:00Z") == b"2"
    assert cache.status("plan", 2, "2026-03-03T08:00:01Z") is None


def test_concurrent_misses_share_one_computation() -> None:
    cache = ReadCache()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return 42

    async def main() -> list[int]:
        return list(await asyncio.gather(*(cache.once("k", compute) for _ in range(10))))

    assert asyncio.run(main()) == [42] * 10
    assert calls == 1
    assert asyncio.run(main()) == [42] * 10  # a later miss computes again
    assert calls == 2


def test_a_failed_computation_fails_every_waiter_and_is_not_kept() -> None:
    cache = ReadCache()

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise LookupError("no such log")

    async def main() -> list[object]:
        return list(await asyncio.gather(*(cache.once("k", broken) for _ in range(3)), return_exceptions=True))

    results = asyncio.run(main())
    assert all(isinstance(r, LookupError) for r in results)

    async def fine() -> int:
        return 7

    assert asyncio.run(cache.once("k", fine)) == 7
    with pytest.raises(LookupError):
        asyncio.run(cache.once("k", broken))
