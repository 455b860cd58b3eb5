"""`PreparePool`: worker processes that run `prepare_chunk`, one pipe each.

Lighter than `concurrent.futures.ProcessPoolExecutor` for this one job: no manager or
feeder thread in the submitting process (each of those costs GIL hand-offs per batch), the
request is pickled by the thread that sends it and the answer unpickled by the thread that
waits for it.  Each worker answers its requests in the order it got them, so a caller that
`receive`s tickets in the order it `send`s them never waits on a later request.

A worker that dies (or a request that cannot be pickled) makes `send` or `receive` return
None; the worker is restarted and the caller prepares that chunk itself.  After `4 × N`
restarts the pool stops for good and every `send` returns None.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from interlock.store.prepare import Checked, Keyring, prepare_chunk
from interlock.store.records import Refusal

Answer = list["Refusal | Checked"]


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
    """`processes` spawned workers (spawn is safe in a threaded server)."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a pool needs at least one process")
        self._context = multiprocessing.get_context("spawn")
        self._generations = itertools.count()
        self._lock = threading.Lock()  # guards `_workers` against a restart during a send
        self._workers = [self._spawn() for _ in range(processes)]
        self._next = itertools.cycle(range(processes))
        self._restarts_left = 4 * processes  # then the pool stops: workers that cannot live

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child,), daemon=True, name="interlock-prepare")
        process.start()
        child.close()
        return _Worker(process, parent, next(self._generations))

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def send(self, envelopes: Sequence[Any], ring: Keyring) -> Ticket | None:
        """Hand a chunk to the next worker; None if it could not be sent."""
        slot = next(self._next)
        with self._lock:
            if not self._workers:
                return None  # closed, or stopped after too many restarts
            worker = self._workers[slot]
        try:
            worker.conn.send((list(envelopes), dict(ring)))
        except (OSError, ValueError):  # the worker is gone
            self._restart(slot, worker.generation)
            return None
        except Exception:  # pickling failed: nothing was written
            return None
        return Ticket(slot, worker.generation)

    def receive(self, ticket: Ticket) -> Answer | None:
        """The answer to `ticket` (blocking); None if its worker died before answering."""
        with self._lock:
            if not self._workers:
                return None
            worker = self._workers[ticket.slot]
        if worker.generation != ticket.generation:
            return None
        try:
            answer: Answer = worker.conn.recv()
        except (EOFError, OSError):
            self._restart(ticket.slot, ticket.generation)
            return None
        return answer

    def _restart(self, slot: int, generation: int) -> None:
        """Replace a dead worker; after too many deaths stop every worker (the caller then
        prepares everything itself) rather than spawn processes that cannot live."""
        with self._lock:
            if not self._workers or self._workers[slot].generation != generation:
                return  # stopped, or restarted already
            worker = self._workers[slot]
            worker.conn.close()
            worker.process.kill()
            worker.process.join(5)
            if self._restarts_left > 0:
                self._restarts_left -= 1
                self._workers[slot] = self._spawn()
                return
            doomed, self._workers = self._workers, []
        for other in doomed:
            other.process.kill()
            other.process.join(5)
            other.conn.close()

    @property
    def stopped(self) -> bool:
        """True once closed, or stopped after its workers kept dying."""
        return not self._workers

    def close(self) -> None:
        """Stop every worker (after its current request)."""
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
