"""`PreparePool`: worker processes that run `prepare_chunk`, one pipe each.

Lighter than `concurrent.futures.ProcessPoolExecutor` for this one job: no manager or
feeder thread in the submitting process (each of those costs GIL hand-offs per batch), the
request is pickled by the thread that sends it and the answer unpickled by the thread that
waits for it.  Each worker answers its requests in the order it got them, so a caller that
`receive`s tickets in the order it `send`s them never waits on a later request.

A worker that dies, hangs (no answer within `answer_timeout`) or cannot be reached makes
`send` or `receive` return None; it is replaced and the caller prepares that chunk itself
(so does a request that cannot be pickled).  More than `4 × N` deaths within ten minutes,
or a replacement that cannot be started, stop the pool for good (logged): every `send`
returns None from then on and the caller prepares everything.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from interlock.store.prepare import Checked, Keyring, prepare_chunk
from interlock.store.records import Refusal

Answer = list["Refusal | Checked"]
_log = logging.getLogger(__name__)
_DEATHS_PER_WORKER = 4  # deaths allowed per worker …
_DEATH_WINDOW = 600  # … within this many seconds, before the pool stops


_NICENESS = 10


def _serve(conn: Connection) -> None:
    """A worker's loop: answer each (envelopes, keyring) request until told to stop (None).

    Workers run at a lower priority than the process that feeds them: its committer holds
    the log's lock and is the pipeline's critical path, so on a busy machine it should not
    wait for a core behind work that is only ahead of it (measured: ~5% more appends/s)."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on some platforms
        os.nice(_NICENESS)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        envelopes, ring = request
        conn.send(prepare_chunk(envelopes, ring))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    generation: int


@dataclass(frozen=True)
class Ticket:
    """A request in flight: which worker has it, in which of its lives."""

    slot: int
    generation: int


class PreparePool:
    """`processes` spawned workers (spawn is safe in a threaded server).

    Meant for two threads: one that `send`s and one that `receive`s the tickets in the order
    they were sent.  A pipe is closed only when no thread can be inside it: a replaced
    worker's connection is retired, and the receiving thread closes retired connections
    before it reads (when no send is in progress) — closing a connection another thread is
    reading or writing could hand its file number to a new worker's pipe mid-message."""

    def __init__(self, processes: int, *, answer_timeout: float = 30.0) -> None:
        if processes < 1:
            raise ValueError("a pool needs at least one process")
        self.answer_timeout = answer_timeout
        self._context = multiprocessing.get_context("spawn")
        self._generations = itertools.count()
        self._lock = threading.Lock()  # guards `_workers`, `_retired`, `_deaths`
        self._sending = threading.Lock()  # held for the whole of a send
        self._retired: list[Connection] = []
        self._deaths: collections.deque[float] = collections.deque()
        self._workers = [self._spawn() for _ in range(processes)]
        self._next = itertools.cycle(range(processes))

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child,), daemon=True, name="interlock-prepare")
        try:
            process.start()
        finally:
            child.close()
        return _Worker(process, parent, next(self._generations))

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    @property
    def stopped(self) -> bool:
        """True once closed, or stopped after its workers kept dying."""
        return not self._workers

    def send(self, envelopes: Sequence[Any], ring: Keyring) -> Ticket | None:
        """Hand a chunk to the next worker; None if it could not be sent (pool stopped, worker
        gone, or a request that cannot be pickled — nothing of it is written then)."""
        with self._sending:
            with self._lock:
                if not self._workers:
                    return None
                slot = next(self._next) % len(self._workers)
                worker = self._workers[slot]
            try:
                worker.conn.send((list(envelopes), dict(ring)))
            except (OSError, ValueError, TypeError):  # the worker is gone (or its pipe retired)
                self._replace(slot, worker.generation)
                return None
            except Exception:  # pickling failed before anything was written
                return None
            return Ticket(slot, worker.generation)

    def receive(self, ticket: Ticket) -> Answer | None:
        """The answer to `ticket`; None if its worker died, gave no answer within
        `answer_timeout` seconds (it is killed and replaced), or sent something unreadable."""
        self._close_retired()
        with self._lock:
            if not self._workers:
                return None
            worker = self._workers[ticket.slot]
        if worker.generation != ticket.generation:
            return None
        try:
            if not worker.conn.poll(self.answer_timeout):
                raise TimeoutError(f"no answer from prepare worker {worker.process.pid}")
            answer: Answer = worker.conn.recv()
        except Exception:  # EOF (it died), timeout, a garbled answer: replace it
            self._replace(ticket.slot, ticket.generation)
            return None
        return answer

    def _close_retired(self) -> None:
        """Close replaced workers' pipes, unless a send is in progress (then later)."""
        if not self._retired or not self._sending.acquire(blocking=False):
            return
        try:
            with self._lock:
                retired, self._retired = self._retired, []
            for conn in retired:
                conn.close()
        finally:
            self._sending.release()

    def _replace(self, slot: int, generation: int) -> None:
        """Kill and replace a worker that died or hung.  More than `4 × N` deaths within ten
        minutes, or a replacement that cannot be started, stop the whole pool (the caller then
        prepares everything itself) rather than spawn processes that cannot live."""
        with self._lock:
            if not self._workers or self._workers[slot].generation != generation:
                return  # stopped, or replaced already
            worker = self._workers[slot]
            worker.process.kill()
            worker.process.join(5)
            self._retired.append(worker.conn)
            now = time.monotonic()
            self._deaths.append(now)
            while self._deaths and self._deaths[0] < now - _DEATH_WINDOW:
                self._deaths.popleft()
            if len(self._deaths) <= _DEATHS_PER_WORKER * len(self._workers):
                try:
                    self._workers[slot] = self._spawn()
                    _log.warning("prepare worker %s ended; replaced", worker.process.pid)
                    return
                except Exception as exc:
                    _log.error("a prepare worker could not be started (%s)", exc)
            doomed, self._workers = self._workers, []
            _log.error("prepare workers stopped after %d deaths in %d s: submissions are prepared "
                       "by the committer from now on", len(self._deaths), _DEATH_WINDOW)
            for other in doomed:
                other.process.kill()
                other.process.join(5)
                self._retired.append(other.conn)

    def close(self) -> None:
        """Stop every worker (after its current request).  Call when no thread sends or
        receives any more."""
        with self._lock:
            workers, self._workers = self._workers, []
            retired, self._retired = self._retired, []
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        for conn in retired:
            conn.close()
