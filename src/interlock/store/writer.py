"""`LogWriter`: group commit in front of `Log.append`.

Callers (server request threads, the CLI) `submit` one envelope each and wait for their
own answer.  One committer thread takes whatever is queued, waiting at most `max_delay`
seconds after the first item or until `max_batch` items, and appends them in one
transaction: one fsync and one signed checkpoint per batch.  Each caller gets its `Ack`
only after that commit; if the commit fails, every caller in the batch gets the exception
and nothing of the batch is logged.  The clock is the caller's (`clock()`); the store
itself reads none.

Preparing a submission (shape, canonical form, Ed25519 signature: `interlock.store.prepare`)
happens either in the caller's thread (`processes=0`: PyNaCl releases the GIL while it
verifies) or, with `processes=N`, in N worker processes: a dispatcher thread hands each
gathered batch to the pool (`interlock.store.workers`) in N chunks and the committer
commits batch k while the workers prepare batch k+1, so the parsing that holds the GIL
runs on every core.  Both modes give every caller the same answer; submissions are logged
in the order they were queued.  If a worker dies it is restarted, and the committer
prepares the chunks it lost itself.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from interlock.store.log import Log
from interlock.store.prepare import Checked, Prepared
from interlock.store.records import Ack, Refusal
from interlock.store.workers import PreparePool, Ticket

_STOP = object()
Answer = Future[Ack | Refusal]
_Chunk = tuple[list[tuple[Any, Answer]], "Ticket | None"]


class LogWriter:
    """Thread-safe batching front of one `Log`.  Use as a context manager or `close()` it.

    `processes`: worker processes that prepare submissions (0: in the callers' threads).
    They are started with `spawn` (safe in a threaded server) and import interlock once."""

    def __init__(
        self,
        log: Log,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 512,
        max_delay: float = 0.002,
        processes: int = 0,
    ) -> None:
        if processes < 0:
            raise ValueError("processes must not be negative")
        self.log = log
        self.clock = clock
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.processes = processes
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._door = threading.Lock()  # nothing is queued after the stop marker
        self._pool: PreparePool | None = None
        self._threads: list[threading.Thread] = []
        if processes:
            self._pool = PreparePool(processes)
            # dispatched batches waiting for the committer; bounded so a slow disk makes the
            # dispatcher wait and the batches grow, instead of the queue
            self._dispatched: queue.Queue[Any] = queue.Queue(maxsize=2)
            self._start(self._dispatch, "dispatch")
            self._start(self._commit_dispatched, "commit")
        else:
            self._start(self._run, "commit")

    def _start(self, target: Callable[[], None], role: str) -> None:
        thread = threading.Thread(target=target, name=f"log-writer-{role}-{self.log.id}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def submit_future(self, envelope: Any) -> Answer:
        """Queue one envelope; the future resolves to its `Ack` or `Refusal` after commit.
        Raises `RuntimeError` once the writer is closed."""
        future: Answer = Future()
        if self._closed:
            raise RuntimeError("the log writer is closed")
        item: Any = envelope
        if self._pool is None:
            item = self.log.prepare(envelope)
            if isinstance(item, Refusal):
                future.set_result(item)
                return future
        with self._door:
            if self._closed:  # closed while this envelope was being prepared
                raise RuntimeError("the log writer is closed")
            self._queue.put((item, future))
        return future

    def submit(self, envelope: Any, timeout: float | None = None) -> Ack | Refusal:
        """Queue one envelope and wait for its answer (raises what the commit raised)."""
        return self.submit_future(envelope).result(timeout)

    def close(self) -> None:
        """Commit what is queued, then stop the threads and worker processes."""
        with self._door:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _gather(self) -> tuple[list[Any], bool]:
        """The next batch from the queue (blocking for its first item), and whether to stop
        after it."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self.max_delay
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._gather()
            if batch:
                self._commit(batch)

    @staticmethod
    def _fail(futures: list[Answer], exc: BaseException) -> None:
        """Answer every still-open future with `exc`: a thread of the writer must never leave a
        caller waiting for good."""
        for future in futures:
            if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                future.set_exception(exc)

    # --- with worker processes ---------------------------------------------------------------

    def _dispatch(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._gather()
            if batch:
                try:
                    chunks = self._send(batch)
                except Exception:  # the committer prepares the whole batch itself
                    chunks = [(batch, None)]
                self._dispatched.put(chunks)
        self._dispatched.put(_STOP)

    def _send(self, batch: list[tuple[Any, Answer]]) -> list[_Chunk]:
        """Split a batch into one chunk per worker and hand each to the pool (a chunk the pool
        would not take is prepared by the committer)."""
        assert self._pool is not None
        ring = self.log.keyring()
        size = -(-len(batch) // self.processes)
        chunks: list[_Chunk] = []
        for start in range(0, len(batch), size):
            items = batch[start : start + size]
            chunks.append((items, self._pool.send([envelope for envelope, _ in items], ring)))
        return chunks

    def _commit_dispatched(self) -> None:
        while True:
            chunks = self._dispatched.get()
            if chunks is _STOP:
                return
            try:
                ready: list[tuple[Prepared, Answer]] = []
                for items, ticket in chunks:
                    ready.extend(self._prepared(items, ticket))
                if ready:
                    self._commit(ready)
            except Exception as exc:  # unexpected: fail this batch, go on with the next
                self._fail([future for items, _ in chunks for _, future in items], exc)

    def _prepared(self, items: list[tuple[Any, Answer]], ticket: Ticket | None) -> list[tuple[Prepared, Answer]]:
        """The chunk's prepared submissions; refusals are answered at once."""
        assert self._pool is not None
        answer = None if ticket is None else self._pool.receive(ticket)
        # None: the pool failed this chunk (a worker died, say), so it is prepared here
        results: list[Refusal | Checked | Prepared | BaseException] = (
            [self._prepare_here(envelope) for envelope, _ in items] if answer is None else list(answer))
        out: list[tuple[Prepared, Answer]] = []
        for (envelope, future), result in zip(items, results, strict=True):
            if isinstance(result, BaseException):  # what `submit` raises in the in-thread mode
                if future.set_running_or_notify_cancel():
                    future.set_exception(result)
            elif isinstance(result, Refusal):
                if future.set_running_or_notify_cancel():
                    future.set_result(result)
            elif isinstance(result, Prepared):
                out.append((result, future))
            else:
                out.append((Prepared(envelope, *result), future))
        return out

    def _prepare_here(self, envelope: Any) -> Prepared | Refusal | BaseException:
        """`Log.prepare` in the committer, which must outlive whatever one envelope does."""
        try:
            return self.log.prepare(envelope)
        except Exception as exc:
            return exc

    def _commit(self, batch: list[tuple[Prepared, Answer]]) -> None:
        live = [(p, f) for p, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.log.append_prepared([p for p, _ in live], self.clock())
        except BaseException as exc:  # every waiter learns the batch failed
            for _, future in live:
                future.set_exception(exc)
            return
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)
