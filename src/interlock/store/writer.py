"""`LogWriter`: group commit in front of `Log.append`.

Callers (server request threads, the CLI) `submit` one envelope each and wait for their
own answer.  The envelope is prepared — shape and Ed25519 signature — in the caller's
thread, so signature checks run in parallel (PyNaCl releases the GIL).  One committer
thread takes whatever is queued, waiting at most `max_delay` seconds after the first item
or until `max_batch` items, and appends them in one transaction: one fsync and one signed
checkpoint per batch.  Each caller gets its `Ack` only after that commit; if the commit
fails, every caller in the batch gets the exception and nothing of the batch is logged.
The clock is the caller's (`clock()`); the store itself reads none.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from interlock.store.log import Log, Prepared
from interlock.store.records import Ack, Refusal

_STOP = object()


class LogWriter:
    """Thread-safe batching front of one `Log`.  Use as a context manager or `close()` it."""

    def __init__(
        self,
        log: Log,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 512,
        max_delay: float = 0.002,
    ) -> None:
        self.log = log
        self.clock = clock
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"log-writer-{log.id}", daemon=True)
        self._thread.start()

    def submit_future(self, envelope: Any) -> Future[Ack | Refusal]:
        """Queue one envelope; the future resolves to its `Ack` or `Refusal` after commit."""
        future: Future[Ack | Refusal] = Future()
        if self._closed:
            raise RuntimeError("the log writer is closed")
        prepared = self.log.prepare(envelope)
        if isinstance(prepared, Refusal):
            future.set_result(prepared)
        else:
            self._queue.put((prepared, future))
        return future

    def submit(self, envelope: Any, timeout: float | None = None) -> Ack | Refusal:
        """Queue one envelope and wait for its answer (raises what the commit raised)."""
        return self.submit_future(envelope).result(timeout)

    def close(self) -> None:
        """Commit what is queued, then stop the committer thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[tuple[Prepared, Future[Ack | Refusal]]] = [first]
            deadline = time.monotonic() + self.max_delay
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Prepared, Future[Ack | Refusal]]]) -> None:
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
