"""`LogWriter` with worker processes (`processes=2`) on SQLite and PostgreSQL.

The reference is the in-thread writer (`processes=0`), itself checked against independent
computations in test_store_log.py: both are fed the same submissions under the same clock,
so every answer and the signed tree must come out identical — a pooled writer that lost,
reordered, mis-verified or mis-canonicalised a submission would differ.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import signal
import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest

from interlock.checkpoint import open_checkpoint
from interlock.store import Ack, LogWriter, Refusal
from interlock.tlog import leaf_hash, verify_inclusion
from pg import T0, adoptions, log_signer_key, northland_agreement, signed


def open_log(store: Any, name: str) -> Any:
    info = store.register_log(northland_agreement(), log_signer_key(), T0, log_id=name,
                              origin=f"log.test/{name}")
    return store.log(info.id, log_signer_key())


def faulty() -> list[dict[str, Any]]:
    """One submission per way of being refused (see test_store_log's refusal test)."""
    forged = signed("north", "forged")
    forged["signatures"] = [{"keyid": "north-1", "sig": signed("north", "other")["signatures"][0]["sig"]}]
    spaced = signed("north", "spaced")
    statement = json.loads(base64.b64decode(spaced["payload"]))
    spaced["payload"] = base64.b64encode(json.dumps(statement, indent=1).encode()).decode()
    wrong_keyid = signed("south", "keyid")
    wrong_keyid["signatures"] = [{"keyid": "south-2", "sig": wrong_keyid["signatures"][0]["sig"]}]
    return [
        {"payload": "not base64!", "payloadType": "x", "signatures": []},
        spaced,
        forged,
        wrong_keyid,
        signed("north", "elsewhere", agreement_hash="sha256:" + "0" * 64),
        signed("mallory", "m-1"),
        signed("north", "x", "attest", {"entry": 0, "verdict": "confirm"}),
        {"payload": 7, "payloadType": [], "signatures": {}},
    ]


def mixed_submissions(seed: int) -> list[dict[str, Any]]:
    """Adoptions, notes from every side (some nonces repeated), and every fault, shuffled
    after the adoptions."""
    rng = random.Random(seed)
    notes = [signed(rng.choice(["north", "south", "east", "observers"]), f"n-{rng.randrange(60)}")
             for _ in range(150)]
    rest = notes + faulty() * 3
    rng.shuffle(rest)
    return adoptions() + rest


def answers(writer: LogWriter, envelopes: list[Any]) -> list[tuple[Any, ...]]:
    """Submit in order from one thread, then collect (kind, code or index, time) per item."""
    futures = [writer.submit_future(e) for e in envelopes]
    return [describe(f.result(timeout=120)) for f in futures]


def describe(result: Ack | Refusal) -> tuple[Any, ...]:
    if isinstance(result, Refusal):
        return ("refused", result.code, result.http_status)
    return ("logged", result.index, result.integrated_at)


def test_pooled_writer_answers_as_the_in_thread_writer(store: Any) -> None:
    envelopes = mixed_submissions(seed=4)
    reference_log, pooled_log = open_log(store, "in-thread"), open_log(store, "pooled")
    with LogWriter(reference_log, lambda: T0) as writer:
        expected = answers(writer, envelopes)
    with LogWriter(pooled_log, lambda: T0, processes=2) as writer:
        got = answers(writer, envelopes)
    assert got == expected
    refused = [a for a in expected if a[0] == "refused"]
    assert len(refused) >= 3 * len(faulty())  # every fault, and the repeated nonces
    assert {a[1] for a in refused} >= {"bad-envelope", "bad-signature"}
    logged = [a[1] for a in expected if a[0] == "logged"]
    assert logged == list(range(len(logged)))  # in submission order, no gaps
    # the same entries under the same clock: the same tree, leaf for leaf
    assert pooled_log.latest_checkpoint().root == reference_log.latest_checkpoint().root
    assert [e.envelope for e in pooled_log.entries(0, 500)] == [e.envelope for e in reference_log.entries(0, 500)]


def test_pooled_writer_from_many_threads_acknowledges_with_valid_proofs(log: Any) -> None:
    log.append(adoptions(), T0)
    results: list[Ack | Refusal] = []
    lock = threading.Lock()
    with LogWriter(log, lambda: T0, processes=2, max_batch=64) as writer:
        def worker(n: int) -> None:
            futures = [writer.submit_future(signed("observers", f"w{n}-{i}")) for i in range(40)]
            with lock:
                results.extend(f.result(timeout=120) for f in futures)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(isinstance(r, Ack) for r in results), [r for r in results if isinstance(r, Refusal)][:3]
    acks = [r for r in results if isinstance(r, Ack)]
    assert sorted(a.index for a in acks) == list(range(3, 243))
    assert len({a.size for a in acks}) > 1  # more than one batch, so batches were pipelined
    stored = {e.index: e for e in log.entries(0, 300)}
    for ack in acks:
        checkpoint = open_checkpoint(ack.checkpoint, log.info.public_key).checkpoint
        verify_inclusion(leaf_hash(stored[ack.index].leaf_bytes()), ack.index, checkpoint.size,
                         list(ack.inclusion_proof), checkpoint.root_hash)


def test_a_submission_the_pool_cannot_take_is_refused_and_its_chunk_still_logged(log: Any) -> None:
    """An envelope that cannot be sent to a worker (here: holds a lock object) makes the pool
    fail its chunk; the committer prepares that chunk itself: the odd one is refused as a
    bad envelope, its neighbours are logged."""
    with LogWriter(log, lambda: T0, processes=2, max_delay=0.5) as writer:
        futures = [writer.submit_future(e) for e in adoptions()]
        futures.insert(1, writer.submit_future({"payload": threading.Lock(), "payloadType": "x",
                                                "signatures": []}))
        results = [f.result(timeout=120) for f in futures]
    assert [type(r).__name__ for r in results] == ["Ack", "Refusal", "Ack", "Ack"]
    assert isinstance(results[1], Refusal) and results[1].code == "bad-envelope"
    assert [r.index for r in results if isinstance(r, Ack)] == [0, 1, 2]


def _pids(writer: LogWriter) -> set[int]:
    pool = writer._pool
    assert pool is not None
    return set(pool.pids)


def test_killed_workers_lose_nothing_and_are_replaced(log: Any) -> None:
    with LogWriter(log, lambda: T0, processes=2) as writer:
        first = answers(writer, adoptions())
        before = _pids(writer)
        assert before
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)  # let the executor notice
        second = answers(writer, [signed("observers", f"after-{i}") for i in range(20)])
        third = answers(writer, [signed("observers", f"later-{i}") for i in range(20)])
        after = _pids(writer)
    assert [a[0] for a in first + second + third] == ["logged"] * 43
    assert [a[1] for a in first + second + third] == list(range(43))
    assert len(after) == 2 and not after & before  # both workers were restarted
    assert log.count_rows()["entries"] == 43


def test_close_commits_everything_queued(log: Any) -> None:
    writer = LogWriter(log, lambda: T0, processes=2)
    futures: list[Future[Ack | Refusal]] = [writer.submit_future(e) for e in adoptions()]
    futures += [writer.submit_future(signed("observers", f"c-{i}")) for i in range(300)]
    writer.close()
    assert all(f.done() for f in futures)
    assert sorted(r.index for r in (f.result() for f in futures) if isinstance(r, Ack)) == list(range(303))
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(signed("observers", "too-late"))


def test_workers_that_keep_dying_stop_the_pool_and_the_committer_carries_on(log: Any) -> None:
    """After 4 × N restarts the pool stops (no endless respawning); the committer prepares
    everything itself, and an envelope whose preparation raises fails only its own caller."""
    with LogWriter(log, lambda: T0, processes=2) as writer:
        pool = writer._pool
        assert pool is not None
        submitted = 0
        for _ in range(20):  # more kill rounds than the 8 restarts allowed
            for pid in pool.pids:
                with contextlib.suppress(ProcessLookupError):  # killed before, not yet replaced
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            assert describe(writer.submit(signed("observers", f"k-{submitted}"), timeout=120))[0] == "logged"
            submitted += 1
            if pool.stopped:
                break
        assert pool.stopped and pool.pids == []
        after = answers(writer, [signed("observers", f"stopped-{i}") for i in range(5)])
        assert [a[1] for a in after] == list(range(submitted, submitted + 5))

        real_prepare = log.prepare
        broken = signed("observers", "breaks-prepare")

        def prepare(envelope: Any) -> Any:
            if envelope is broken:
                raise RuntimeError("preparation failed")
            return real_prepare(envelope)

        log.prepare = prepare
        doomed = writer.submit_future(broken)
        fine = writer.submit_future(signed("observers", "still-fine"))
        with pytest.raises(RuntimeError, match="preparation failed"):
            doomed.result(timeout=60)
        result = fine.result(timeout=60)
        assert isinstance(result, Ack) and result.index == submitted + 5


def test_a_submission_racing_close_is_committed_or_refused_never_left_waiting(log: Any) -> None:
    """A caller that passed the closed-check just before `close()` must not queue behind the
    stop marker: it is told the writer is closed (here its preparation is held until close
    has finished)."""
    writer = LogWriter(log, lambda: T0)
    real_prepare = log.prepare
    inside, release = threading.Event(), threading.Event()

    def held(envelope: Any) -> Any:
        inside.set()
        release.wait(30)
        return real_prepare(envelope)

    log.prepare = held
    outcome: list[Any] = []

    def submit() -> None:
        try:
            outcome.append(writer.submit_future(signed("observers", "racing")))
        except RuntimeError as err:
            outcome.append(err)

    racer = threading.Thread(target=submit)
    racer.start()
    assert inside.wait(30)
    writer.close()
    release.set()
    racer.join(30)
    [result] = outcome
    assert isinstance(result, RuntimeError) and "closed" in str(result)
    assert log.count_rows()["entries"] == 0


def test_a_replacement_worker_that_cannot_start_stops_the_pool_and_nothing_hangs(log: Any) -> None:
    with LogWriter(log, lambda: T0, processes=1) as writer:
        assert [a[0] for a in answers(writer, adoptions())] == ["logged"] * 3
        pool = writer._pool
        assert pool is not None
        [pid] = pool.pids
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)

        def cannot_spawn() -> Any:
            raise OSError(24, "Too many open files")

        pool._spawn = cannot_spawn  # type: ignore[method-assign]
        after = writer.submit(signed("observers", "after-death"), timeout=60)
        assert isinstance(after, Ack) and after.index == 3  # prepared by the committer
        assert pool.stopped
        later = describe(writer.submit(signed("observers", "later"), timeout=60))
        assert later == ("logged", 4, "2026-03-03T08:00:00Z")
    # close() returned: the with-block ended


def test_a_worker_that_stops_answering_is_replaced_after_the_timeout(log: Any) -> None:
    with LogWriter(log, lambda: T0, processes=1) as writer:
        assert [a[0] for a in answers(writer, adoptions())] == ["logged"] * 3
        pool = writer._pool
        assert pool is not None
        pool.answer_timeout = 1.0
        [pid] = pool.pids
        os.kill(pid, signal.SIGSTOP)  # alive, but answers nothing
        try:
            started = time.monotonic()
            result = writer.submit(signed("observers", "while-stuck"), timeout=60)
            waited = time.monotonic() - started
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        assert isinstance(result, Ack) and result.index == 3
        assert 1.0 <= waited < 30
        assert pool.pids and pid not in pool.pids and not pool.stopped  # killed and replaced
        assert describe(writer.submit(signed("observers", "next"), timeout=60))[1] == 4


def test_an_unexpected_error_in_the_committer_fails_that_batch_only(log: Any) -> None:
    with LogWriter(log, lambda: T0, processes=1) as writer:
        assert [a[0] for a in answers(writer, adoptions())] == ["logged"] * 3
        real = writer._prepared
        calls = iter([True])

        def once(items: Any, ticket: Any) -> Any:
            if next(calls, False):
                raise ValueError("simulated failure")
            return real(items, ticket)

        writer._prepared = once  # type: ignore[method-assign]
        doomed = writer.submit_future(signed("observers", "doomed"))
        with pytest.raises(ValueError, match="simulated failure"):
            doomed.result(timeout=60)
        assert describe(writer.submit(signed("observers", "fine"), timeout=60))[:2] == ("logged", 3)
